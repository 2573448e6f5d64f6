// QoE beacons: the player's events of one view, batched to POST /v1/events (the
// contract of reelstack.analytics; Mux Data's definitions of startup, rebuffering...).
// One view per playback session: beginView() when a title is requested, endView() when
// it stops; the page going away sends what is left with navigator.sendBeacon.
import shaka from "shaka-player";
import type { ShakaPlayer } from "./player";

export type BeaconType =
  | "view_start"
  | "play_requested"
  | "first_frame"
  | "playing"
  | "pause"
  | "seek_start"
  | "seek_end"
  | "rebuffer_start"
  | "rebuffer_end"
  | "rendition_change"
  | "error"
  | "heartbeat"
  | "view_end";

export type BeaconData = Record<string, string | number | boolean | null>;

/** One event as POST /v1/events takes it (`ts`: this browser's clock, epoch ms). */
export interface Beacon {
  event_id: string;
  view_id: string;
  session_id: string;
  type: BeaconType;
  ts: number;
  playhead_ms?: number;
  data: BeaconData;
}

const ENDPOINT = "/v1/events";
export const PLAYER_NAME = "reelstack-web";
// A heartbeat carries the playhead and the player's stats this often.
export const HEARTBEAT_MS = 10_000;
// Events wait this long for company before they are sent (a batch, not a request each).
const FLUSH_DELAY_MS = 2_000;
// The server takes at most 500 events a batch; a failed send keeps at most this many.
const MAX_BATCH = 500;
const MAX_QUEUED = 2_000;
// shaka.util.Error.Severity.CRITICAL: playback stopped.
const SEVERITY_CRITICAL = 2;

/** A random id (UUID-like hex); crypto.randomUUID needs a secure context, this does not. */
function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Sends queued beacons in batches: fetch while the page lives, sendBeacon as it goes. */
class BeaconQueue {
  private queue: Beacon[] = [];
  private timer: number | null = null;
  private sending = false;

  push(beacon: Beacon): void {
    this.queue.push(beacon);
    if (this.queue.length >= MAX_BATCH) void this.flush();
    else this.timer ??= window.setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  async flush(): Promise<void> {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.sending = true;
    try {
      // No token: the playback session id is the credential (as for sendBeacon).
      const response = await fetch(ENDPOINT, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ events: batch }),
        keepalive: true,
      });
      // 5xx: try again later (the server deduplicates by event id); 4xx will not heal.
      if (response.status >= 500) this.requeue(batch);
    } catch {
      this.requeue(batch);
    } finally {
      this.sending = false;
    }
    if (this.queue.length > 0) this.timer ??= window.setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** The page is going away: hand everything to the browser to deliver. */
  flushOnHide(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      // text/plain: a "simple" request, which sendBeacon may send without a preflight.
      const body = new Blob([JSON.stringify({ events: batch })], { type: "text/plain" });
      if (!navigator.sendBeacon(ENDPOINT, body)) break;
    }
  }

  private requeue(batch: Beacon[]): void {
    this.queue = [...batch, ...this.queue].slice(-MAX_QUEUED);
  }
}

const queue = new BeaconQueue();

export interface ViewOptions {
  sessionId: string;
  player: ShakaPlayer;
  video: HTMLVideoElement;
  cdn?: string | null | undefined;
  /** The play was requested now (a click, autoplay); else at the first `play`. */
  playRequested: boolean;
}

/** One view: listens to the video element and Shaka until end(). */
export class ViewBeacons {
  readonly viewId = newId();
  private readonly options: ViewOptions;
  private readonly listening = new AbortController();
  private readonly shakaListeners: [string, (event: Event) => void][] = [];
  private heartbeat: number | null = null;
  private requested = false;
  private started = false;
  private buffering = false;
  private ended = false;
  private variant: string | null = null;

  constructor(options: ViewOptions) {
    this.options = options;
    this.send("view_start", {
      player_name: PLAYER_NAME,
      player_version: shaka.Player.version,
      cdn: options.cdn ?? null,
    });
    if (options.playRequested) this.requestPlay();
    const { video, player } = options;
    const on = (type: string, handler: () => void): void =>
      video.addEventListener(type, handler, { signal: this.listening.signal });
    on("play", () => this.requestPlay());
    on("playing", () => this.onPlaying());
    on("pause", () => {
      // A pause at the end is the end of the view, not a pause.
      if (this.started && !video.ended) this.send("pause");
    });
    on("seeking", () => this.send("seek_start"));
    on("seeked", () => this.send("seek_end"));
    on("ended", () => this.end());
    this.onShaka(player, "buffering", (event) => {
      const buffering = (event as Event & { buffering?: boolean }).buffering === true;
      if (buffering === this.buffering) return;
      this.buffering = buffering;
      // Before the first frame a stall is startup time; the server knows, but say it.
      if (this.started) this.send(buffering ? "rebuffer_start" : "rebuffer_end");
    });
    for (const type of ["adaptation", "variantchanged", "trackschanged"]) {
      this.onShaka(player, type, () => this.checkRendition());
    }
    this.onShaka(player, "error", (event) => {
      const detail = (event as Event & { detail?: { code?: unknown; severity?: unknown } }).detail;
      const fatal = Number(detail?.severity) === SEVERITY_CRITICAL;
      this.send("error", { fatal, code: Number(detail?.code ?? -1) });
      if (fatal) this.stop();
    });
    this.heartbeat = window.setInterval(() => this.beat(), HEARTBEAT_MS);
  }

  get sessionId(): string {
    return this.options.sessionId;
  }

  /** The view is over (stopped, replaced, page hidden): view_end, then stop listening. */
  end(): void {
    if (this.ended) return;
    this.send("view_end");
    this.stop();
    void queue.flush();
  }

  private stop(): void {
    this.ended = true;
    this.listening.abort();
    for (const [type, handler] of this.shakaListeners) {
      this.options.player.removeEventListener(type, handler);
    }
    this.shakaListeners.length = 0;
    if (this.heartbeat !== null) window.clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private onShaka(player: ShakaPlayer, type: string, handler: (event: Event) => void): void {
    player.addEventListener(type, handler);
    this.shakaListeners.push([type, handler]);
  }

  private requestPlay(): void {
    if (this.requested) return;
    this.requested = true;
    this.send("play_requested");
  }

  private onPlaying(): void {
    this.requestPlay();
    if (this.started) {
      this.send("playing");
      return;
    }
    this.started = true;
    this.checkRendition();
    this.send("first_frame");
    // Startup time is what a viewer waits for: send it now, not with the next batch.
    void queue.flush();
  }

  private checkRendition(): void {
    const active = this.options.player.getVariantTracks().find((track) => track.active);
    if (!active) return;
    const key = `${active.bandwidth}:${active.width}x${active.height}`;
    if (key === this.variant || !(active.bandwidth > 0)) return;
    this.variant = key;
    this.send("rendition_change", {
      bitrate: Math.round(active.bandwidth),
      width: active.width,
      height: active.height,
      ...this.playerSize(),
    });
  }

  private beat(): void {
    const stats = this.options.player.getStats();
    this.send("heartbeat", {
      width: finite(stats.width),
      height: finite(stats.height),
      stream_bandwidth: finite(stats.streamBandwidth),
      estimated_bandwidth: finite(stats.estimatedBandwidth),
      decoded_frames: finite(stats.decodedFrames),
      dropped_frames: finite(stats.droppedFrames),
      buffering_time_s: finite(stats.bufferingTime),
      play_time_s: finite(stats.playTime),
      load_latency_s: finite(stats.loadLatency),
      ...this.playerSize(),
    });
  }

  /** The player's size in device pixels (what upscaling is measured against). */
  private playerSize(): BeaconData {
    const { video } = this.options;
    const ratio = window.devicePixelRatio || 1;
    return {
      player_width: Math.round(video.clientWidth * ratio),
      player_height: Math.round(video.clientHeight * ratio),
    };
  }

  private send(type: BeaconType, data: BeaconData = {}): void {
    if (this.ended) return;
    const position = this.options.video.currentTime;
    queue.push({
      event_id: newId(),
      view_id: this.viewId,
      session_id: this.options.sessionId,
      type,
      ts: Date.now(),
      ...(Number.isFinite(position) ? { playhead_ms: Math.round(position * 1000) } : {}),
      data,
    });
  }
}

let active: ViewBeacons | null = null;

/** A new view of a playback session (ends the previous one). */
export function beginView(options: ViewOptions): ViewBeacons {
  active?.end();
  active = new ViewBeacons(options);
  return active;
}

/** Ends the current view, if any. */
export function endView(): void {
  active?.end();
  active = null;
}

// The page going away ends its view and hands the batch to sendBeacon.
window.addEventListener("pagehide", () => {
  if (active) {
    const view = active;
    active = null;
    view.end();
  }
  queue.flushOnHide();
});
