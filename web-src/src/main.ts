// The page's entry point: the player and its controls, then the router opens a view.
import "./style.css";
import { setDeepLink, watchingProfile } from "./catalog/catalogView";
import {
  chooseAudio,
  chooseQuality,
  createPlayer,
  releaseLease,
  replayCurrent,
  setProtocol,
  switchProtocol,
} from "./player/playback";
import { isPlaybackSupported } from "./player/player";
import { start } from "./router";
import { element, showError } from "./shell";

const ui = {
  protocol: element("protocol", HTMLSelectElement),
  quality: element("quality", HTMLSelectElement),
  audio: element("audio", HTMLSelectElement),
};

async function main(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  setProtocol(params.get("protocol"));
  const titleId = params.get("title");
  if (titleId) setDeepLink({ titleId, autoplay: params.get("autoplay") === "1" });

  ui.protocol.addEventListener("change", () => void switchProtocol());
  ui.quality.addEventListener("change", chooseQuality);
  ui.audio.addEventListener("change", chooseAudio);

  // A page going away frees its stream slot at once (keepalive), not after the lease.
  window.addEventListener("pagehide", releaseLease);
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: the stream was ended on the way out.
    if (event.persisted && watchingProfile()) replayCurrent();
  });

  let unsupported: string | null = null;
  if (isPlaybackSupported()) {
    await createPlayer();
  } else {
    unsupported = "This browser cannot play DASH or HLS (Media Source Extensions missing).";
    showError(unsupported);
  }
  await start(unsupported);
}

void main();
