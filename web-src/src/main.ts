import "./style.css";
import { ApiError, createPlayback, listTitles } from "./api/client";
import type { PlaybackSession, Title } from "./api/types";
import type { ReelstackHarness } from "./harness";
import { markSelected, renderTitleList } from "./catalog/titleList";
import {
  applyQualityChoice,
  renderAudioOptions,
  renderQualityOptions,
  renderStats,
} from "./player/controls";
import {
  isPlaybackSupported,
  isProtocol,
  PlayerLoadError,
  VideoPlayer,
  type PlayerError,
  type Protocol,
} from "./player/player";

// shaka.util.Error.Severity.CRITICAL: playback stopped; lesser ones are retried by Shaka.
const SEVERITY_CRITICAL = 2;
// Ask for a new session rather than reuse one this close to expiry.
const SESSION_MARGIN_MS = 10_000;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} missing from index.html`);
  return found;
}

const ui = {
  titles: element("titles", HTMLElement),
  video: element("video", HTMLVideoElement),
  protocol: element("protocol", HTMLSelectElement),
  quality: element("quality", HTMLSelectElement),
  audio: element("audio", HTMLSelectElement),
  stats: element("stats", HTMLElement),
  error: element("error", HTMLElement),
  nowPlaying: element("now-playing", HTMLElement),
};

const harness: ReelstackHarness = { player: null, errors: [], loaded: false };
window.__reelstack = harness;

function showError(message: string | null): void {
  ui.error.textContent = message ?? "";
  ui.error.hidden = message === null;
}

function describe(error: unknown): string {
  if (error instanceof ApiError || error instanceof PlayerLoadError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

let player: VideoPlayer | null = null;
let current: { titleId: string; session: PlaybackSession } | null = null;
// Each selection bumps this, so a slow earlier request cannot win over a newer click.
let generation = 0;

function refreshPlayerUi(): void {
  if (!player) return;
  renderQualityOptions(ui.quality, player);
  renderAudioOptions(ui.audio, player);
  renderStats(ui.stats, player.stats());
}

function onPlayerError(error: PlayerError): void {
  harness.errors.push(error);
  if (error.severity === SEVERITY_CRITICAL) {
    showError(`Playback error ${error.code} (category ${error.category})`);
  }
}

function selectedProtocol(): Protocol {
  return isProtocol(ui.protocol.value) ? ui.protocol.value : "dash";
}

async function loadSession(
  session: PlaybackSession,
  autoplay: boolean,
  token: number,
  muted = true,
): Promise<void> {
  if (!player) return;
  harness.loaded = false;
  try {
    const loaded = await player.load(session[selectedProtocol()], { autoplay, muted });
    if (!loaded || token !== generation) return;
    harness.loaded = true;
    refreshPlayerUi();
  } catch (error) {
    // PlayerLoadError went through onPlayerError; others are our own bugs.
    if (token === generation) showError(describe(error));
  }
}

async function playTitle(
  titleId: string,
  autoplay: boolean,
  label?: string,
  muted = true,
): Promise<void> {
  const token = ++generation;
  showError(null);
  harness.loaded = false;
  markSelected(ui.titles, titleId);
  ui.nowPlaying.textContent = label ?? titleId;
  try {
    const session = await createPlayback(titleId);
    if (token !== generation) return;
    current = { titleId, session };
    await loadSession(session, autoplay, token, muted);
  } catch (error) {
    if (token !== generation) return;
    showError(describe(error));
    // Do not leave the previous title playing under the new title's name.
    current = null;
    await player?.stop();
    refreshPlayerUi();
  }
}

async function switchProtocol(): Promise<void> {
  if (!current) return;
  const autoplay = !ui.video.paused;
  if (Date.parse(current.session.expires_at) - Date.now() < SESSION_MARGIN_MS) {
    await playTitle(current.titleId, autoplay, ui.nowPlaying.textContent ?? undefined);
    return;
  }
  showError(null);
  await loadSession(current.session, autoplay, ++generation);
}

/** How often the catalogue is re-read while a title is still processing. */
const CATALOG_REFRESH_MS = 3000;

async function loadCatalog(): Promise<void> {
  ui.titles.setAttribute("aria-busy", "true");
  try {
    const page = await listTitles();
    renderTitleList(ui.titles, page.items, (title: Title) =>
      // A click is a user gesture: play at once, with sound.
      void playTitle(title.id, true, title.title, false),
    );
    // Titles still transcoding turn playable by themselves: look again shortly.
    if (page.items.some((item) => item.status === "processing")) {
      window.setTimeout(() => void loadCatalog(), CATALOG_REFRESH_MS);
    }
    if (current) {
      const { titleId } = current;
      markSelected(ui.titles, titleId);
      // A deep link only knows the id until the catalogue arrives.
      const title = page.items.find((item) => item.id === titleId);
      if (title) ui.nowPlaying.textContent = title.title;
    }
  } catch (error) {
    ui.titles.replaceChildren();
    showError(describe(error));
  } finally {
    ui.titles.removeAttribute("aria-busy");
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const protocol = params.get("protocol");
  if (isProtocol(protocol)) ui.protocol.value = protocol;

  ui.protocol.addEventListener("change", () => void switchProtocol());
  ui.quality.addEventListener("change", () => {
    if (player) applyQualityChoice(ui.quality, player);
  });
  ui.audio.addEventListener("change", () => player?.selectAudio(ui.audio.value));

  if (isPlaybackSupported()) {
    player = await VideoPlayer.create(ui.video, {
      onError: onPlayerError,
      onTracksChanged: refreshPlayerUi,
    });
    harness.player = player.shaka;
    // Shaka has no event for every bandwidth estimate, so poll the readout.
    window.setInterval(() => renderStats(ui.stats, player?.stats() ?? null), 1000);
  } else {
    showError("This browser cannot play DASH or HLS (Media Source Extensions missing).");
  }

  const catalog = loadCatalog();
  const titleId = params.get("title");
  if (titleId && player) await playTitle(titleId, params.get("autoplay") === "1");
  await catalog;
}

void start();
