// What plays now: the player, the playback session of the current title and its stream
// lease. main.ts wires the player's controls to these.
import { ApiError, createPlayback, getResumePosition, stopPlayback } from "../api/client";
import type { PlaybackRefusal, PlaybackSession } from "../api/types";
import { markSelected } from "../catalog/titleList";
import { describe, element, harness, report, showError } from "../shell";
import {
  applyQualityChoice,
  renderAudioOptions,
  renderQualityOptions,
  renderStats,
} from "./controls";
import { beginView, endView } from "./beacons";
import { StreamLease } from "./lease";
import { isProtocol, VideoPlayer, type PlayerError, type Protocol } from "./player";

// shaka.util.Error.Severity.CRITICAL: playback stopped; lesser ones are retried by Shaka.
const SEVERITY_CRITICAL = 2;
// Ask for a new session rather than reuse one this close to expiry.
const SESSION_MARGIN_MS = 10_000;

const ui = {
  titles: element("titles", HTMLElement),
  video: element("video", HTMLVideoElement),
  protocol: element("protocol", HTMLSelectElement),
  quality: element("quality", HTMLSelectElement),
  audio: element("audio", HTMLSelectElement),
  stats: element("stats", HTMLElement),
  nowPlaying: element("now-playing", HTMLElement),
};

let player: VideoPlayer | null = null;
let current: { titleId: string; session: PlaybackSession } | null = null;
// The stream lease of `current`: heartbeats until the title is stopped or replaced.
let lease: StreamLease | null = null;
// Each selection bumps this, so a slow earlier request cannot win over a newer click.
let generation = 0;

let onProfileRequired: () => Promise<void> = () => Promise.resolve();

/** What a `profile_required` refusal leads to (the profile picker). */
export function setProfileRequiredHandler(handler: () => Promise<void>): void {
  onProfileRequired = handler;
}

/** Attaches Shaka Player to the page's video element (once, at start-up). */
export async function createPlayer(): Promise<void> {
  player = await VideoPlayer.create(ui.video, {
    onError: onPlayerError,
    onTracksChanged: refreshPlayerUi,
  });
  harness.player = player.shaka;
  // Shaka has no event for every bandwidth estimate, so poll the readout.
  window.setInterval(() => renderStats(ui.stats, player?.stats() ?? null), 1000);
}

export function hasPlayer(): boolean {
  return player !== null;
}

export function setProtocol(protocol: string | null): void {
  if (isProtocol(protocol)) ui.protocol.value = protocol;
}

export function chooseQuality(): void {
  if (player) applyQualityChoice(ui.quality, player);
}

export function chooseAudio(): void {
  player?.selectAudio(ui.audio.value);
}

/** The title playing (or loading) now, if any. */
export function currentTitleId(): string | null {
  return current?.titleId ?? null;
}

/** The playback session whose lease this page holds, if any. */
export function leasedSessionId(): string | null {
  return lease?.sessionId ?? null;
}

/** The page goes away: free the stream slot at once (keepalive), not after the lease. */
export function releaseLease(): void {
  lease?.release();
}

/** Starts the current title again (after the back/forward cache: its stream was ended). */
export function replayCurrent(): void {
  if (current) void playTitle(current.titleId, false, ui.nowPlaying.textContent ?? undefined);
}

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

/**
 * Stops the player and ends the stream. `tellServer` false only halts the heartbeats
 * (signed out: the server has nothing left to hear from this page).
 */
export async function stopPlaying({
  tellServer = true,
}: { tellServer?: boolean } = {}): Promise<void> {
  ++generation;
  endView();
  const ending = lease;
  const wasLive = ending?.live ?? false;
  ending?.halt();
  lease = null;
  current = null;
  harness.loaded = false;
  ui.nowPlaying.textContent = "nothing selected";
  markSelected(ui.titles, "");
  await player?.stop();
  refreshPlayerUi();
  if (ending && wasLive && tellServer) {
    await stopPlayback(ending.sessionId).catch(() => undefined);
  }
}

function onStreamEnded(reason: ApiError): void {
  ++generation;
  endView();
  lease = null;
  current = null;
  harness.loaded = false;
  void player?.stop().then(refreshPlayerUi);
  showError(`Playback ended: ${reason.message}. Pick the title to watch again.`);
}

function startLease(session: PlaybackSession): void {
  harness.heartbeats = 0;
  const started: StreamLease = new StreamLease(session.session_id, session.heartbeat_interval_s, {
    onEnded: (reason) => {
      if (lease === started) onStreamEnded(reason);
    },
    onRenewed: () => {
      if (lease === started) harness.heartbeats += 1;
    },
  });
  lease = started;
}

async function loadSession(
  session: PlaybackSession,
  autoplay: boolean,
  token: number,
  muted = true,
  startTime: number | null = null,
): Promise<void> {
  if (!player) return;
  harness.loaded = false;
  const protocol = selectedProtocol();
  // The session's delivery network first, then the other healthy ones it named.
  const uris = [session[protocol], ...(session.alternates ?? []).map((alt) => alt[protocol])];
  for (const [index, uri] of uris.entries()) {
    try {
      const loaded = await player.load(uri, {
        autoplay,
        muted,
        drm: session.drm?.servers ?? null,
        startTime,
      });
      if (!loaded || token !== generation) return;
      harness.loaded = true;
      if (index > 0) showError(null); // an earlier network failed; this one plays
      refreshPlayerUi();
      return;
    } catch (error) {
      if (token !== generation) return;
      // PlayerLoadError went through onPlayerError; others are our own bugs.
      if (index === uris.length - 1) showError(describe(error));
    }
  }
}

function isRefusal(error: unknown, code: PlaybackRefusal): boolean {
  return error instanceof ApiError && error.status === 403 && error.code === code;
}

export async function playTitle(
  titleId: string,
  autoplay: boolean,
  label?: string,
  muted = true,
): Promise<void> {
  const token = ++generation;
  endView();
  showError(null);
  harness.loaded = false;
  markSelected(ui.titles, titleId);
  ui.nowPlaying.textContent = label ?? titleId;
  // Free the stream slot first: a one-stream plan would refuse the new session.
  const previous = lease;
  lease = null;
  if (previous?.live) {
    previous.halt();
    await stopPlayback(previous.sessionId).catch(() => undefined);
  }
  try {
    // Where this profile stopped last time (no history: from the start).
    const [session, resumeMs] = await Promise.all([
      createPlayback(titleId),
      getResumePosition(titleId).catch(() => 0),
    ]);
    if (token !== generation) {
      await stopPlayback(session.session_id).catch(() => undefined);
      return;
    }
    current = { titleId, session };
    startLease(session);
    if (player) {
      beginView({
        sessionId: session.session_id,
        player: player.shaka,
        video: ui.video,
        cdn: session.cdn,
        playRequested: autoplay,
      });
    }
    await loadSession(session, autoplay, token, muted, resumeMs > 0 ? resumeMs / 1000 : null);
  } catch (error) {
    if (token !== generation) return;
    // Refusals (403) carry a `detail` written for the viewer.
    report(error);
    // Do not leave the previous title playing under the new title's name.
    current = null;
    await player?.stop();
    refreshPlayerUi();
    if (isRefusal(error, "profile_required")) await onProfileRequired();
  }
}

export async function switchProtocol(): Promise<void> {
  if (!current) return;
  const autoplay = !ui.video.paused;
  if (Date.parse(current.session.expires_at) - Date.now() < SESSION_MARGIN_MS) {
    await playTitle(current.titleId, autoplay, ui.nowPlaying.textContent ?? undefined);
    return;
  }
  showError(null);
  await loadSession(current.session, autoplay, ++generation);
}
