// The only module that knows about Shaka Player; the rest of the page talks to
// VideoPlayer and plain data.
import shaka from "shaka-player";

export type Protocol = "dash" | "hls";

export const PROTOCOLS: readonly Protocol[] = ["dash", "hls"];

export function isProtocol(value: unknown): value is Protocol {
  return value === "dash" || value === "hls";
}

/** The fields of a shaka.util.Error that the page and the test harness report. */
export interface PlayerError {
  code: number;
  category: number;
  severity: number;
  data: unknown[];
}

/** One selectable rendition: the best variant at a given height. */
export interface Quality {
  height: number;
  width: number | null;
  bandwidth: number;
  trackId: number;
}

/** One selectable audio rendition (a language, or a commentary in that language). */
export interface AudioChoice {
  id: string;
  label: string;
  language: string;
  active: boolean;
}

export interface PlaybackStats {
  width: number;
  height: number;
  /** Bandwidth of the variant now playing, bits/s. */
  streamBandwidth: number;
  /** ABR's current network estimate, bits/s. */
  estimatedBandwidth: number;
}

export type ShakaPlayer = shaka.Player;

/** Thrown by VideoPlayer.load; the error has already gone to onError. */
export class PlayerLoadError extends Error {
  readonly detail: PlayerError;

  constructor(detail: PlayerError) {
    super(`Playback failed (Shaka error ${detail.code})`);
    this.name = "PlayerLoadError";
    this.detail = detail;
  }
}

// shaka.util.Error.Code.LOAD_INTERRUPTED: a newer load() replaced this one.
const LOAD_INTERRUPTED = 7000;

interface PlayerCallbacks {
  onError: (error: PlayerError) => void;
  /** Tracks changed (new manifest) or the active variant changed. */
  onTracksChanged: () => void;
}

let polyfillsInstalled = false;

/** Installs Shaka's polyfills once and says whether this browser can play. */
export function isPlaybackSupported(): boolean {
  if (!polyfillsInstalled) {
    shaka.polyfill.installAll();
    polyfillsInstalled = true;
  }
  return shaka.Player.isBrowserSupported();
}

function toPlayerError(value: unknown): PlayerError {
  if (typeof value === "object" && value !== null && "code" in value) {
    const error = value as { code: unknown; category?: unknown; severity?: unknown; data?: unknown };
    return {
      code: Number(error.code),
      category: Number(error.category ?? -1),
      severity: Number(error.severity ?? -1),
      data: Array.isArray(error.data) ? (error.data as unknown[]) : [],
    };
  }
  // Not a shaka.util.Error (should not happen); keep the message for debugging.
  return { code: -1, category: -1, severity: -1, data: [String(value)] };
}

export class VideoPlayer {
  readonly shaka: ShakaPlayer;
  private readonly video: HTMLVideoElement;
  private readonly callbacks: PlayerCallbacks;
  // Load rejections may also have been dispatched as `error` events.
  private readonly reported = new WeakSet<object>();

  private constructor(video: HTMLVideoElement, player: ShakaPlayer, callbacks: PlayerCallbacks) {
    this.video = video;
    this.shaka = player;
    this.callbacks = callbacks;
    player.addEventListener("error", (event: Event) => {
      this.report((event as Event & { detail?: unknown }).detail);
    });
    const tracksChanged = (): void => callbacks.onTracksChanged();
    player.addEventListener("trackschanged", tracksChanged);
    player.addEventListener("variantchanged", tracksChanged);
    player.addEventListener("adaptation", tracksChanged);
  }

  /** Creates a Shaka player attached to `video`. Call isPlaybackSupported() first. */
  static async create(video: HTMLVideoElement, callbacks: PlayerCallbacks): Promise<VideoPlayer> {
    const player = new shaka.Player();
    await player.attach(video);
    return new VideoPlayer(video, player, callbacks);
  }

  /**
   * Loads a manifest. Resolves false when a newer load() superseded this one;
   * rejects with PlayerLoadError on failure.
   */
  async load(
    manifestUrl: string,
    {
      autoplay = false,
      muted = true,
      drm,
      startTime = null,
    }: {
      autoplay?: boolean;
      muted?: boolean;
      drm?: Record<string, string> | null;
      /** Where to start, in seconds (a resumed play); null: the start. */
      startTime?: number | null;
    } = {},
  ): Promise<boolean> {
    if (drm) {
      // Licence servers by EME key system (the playback answer's drm.servers), e.g.
      // org.w3.clearkey for ClearKey DASH. HLS AES-128 needs none: its key URIs are in
      // the playlists, under the same signed prefix as the segments.
      this.shaka.configure({ drm: { servers: drm } });
    }
    if (autoplay) {
      // Chromium only autoplays muted media without a user gesture; a click on a title
      // is one, so that path asks for sound and falls back to muted if refused.
      this.video.muted = muted;
      this.video.autoplay = true;
    }
    try {
      await this.shaka.load(manifestUrl, startTime);
    } catch (error) {
      if (toPlayerError(error).code === LOAD_INTERRUPTED) return false;
      throw new PlayerLoadError(this.report(error));
    }
    if (autoplay) {
      this.video.play().catch(() => {
        // Refused with sound: retry muted. The user can still press play; autoplay
        // policy is not a player error.
        this.video.muted = true;
        this.video.play().catch(() => undefined);
      });
    }
    return true;
  }

  /** Stops playback and drops the current manifest. */
  async stop(): Promise<void> {
    await this.shaka.unload();
  }

  /** One entry per distinct height, highest first. */
  qualities(): Quality[] {
    const tracks = this.shaka.getVariantTracks();
    const active = tracks.find((track) => track.active);
    const byHeight = new Map<number, Quality>();
    for (const track of tracks) {
      if (track.height === null) continue;
      // Stay on the current audio rendition so a quality switch never changes language.
      if (active && active.audioId !== null && track.audioId !== active.audioId) continue;
      const best = byHeight.get(track.height);
      if (!best || track.bandwidth > best.bandwidth) {
        byHeight.set(track.height, {
          height: track.height,
          width: track.width,
          bandwidth: track.bandwidth,
          trackId: track.id,
        });
      }
    }
    return [...byHeight.values()].sort((a, b) => b.height - a.height);
  }

  /** The audio tracks of the title, in manifest order. */
  audioChoices(): AudioChoice[] {
    return this.shaka.getAudioTracks().map((track, index) => ({
      id: String(index),
      label: track.label || track.language || `Track ${index + 1}`,
      language: track.language,
      active: track.active,
    }));
  }

  /** Switches audio to the choice with this id (from audioChoices()). */
  selectAudio(id: string): void {
    const track = this.shaka.getAudioTracks()[Number(id)];
    if (track) this.shaka.selectAudioTrack(track);
  }

  isAbrEnabled(): boolean {
    return this.shaka.getConfiguration().abr.enabled;
  }

  /** `null` turns adaptive bitrate back on; a height pins that rendition. */
  selectQuality(height: number | null): void {
    if (height === null) {
      this.shaka.configure({ abr: { enabled: true } });
      return;
    }
    const quality = this.qualities().find((q) => q.height === height);
    const track = this.shaka.getVariantTracks().find((t) => t.id === quality?.trackId);
    if (!track) return;
    this.shaka.configure({ abr: { enabled: false } });
    this.shaka.selectVariantTrack(track, true);
  }

  stats(): PlaybackStats {
    const stats = this.shaka.getStats();
    return {
      width: Number.isFinite(stats.width) ? stats.width : 0,
      height: Number.isFinite(stats.height) ? stats.height : 0,
      streamBandwidth: Number.isFinite(stats.streamBandwidth) ? stats.streamBandwidth : 0,
      estimatedBandwidth: Number.isFinite(stats.estimatedBandwidth) ? stats.estimatedBandwidth : 0,
    };
  }

  private report(error: unknown): PlayerError {
    const detail = toPlayerError(error);
    if (typeof error === "object" && error !== null) {
      if (this.reported.has(error)) return detail;
      this.reported.add(error);
    }
    this.callbacks.onError(detail);
    return detail;
  }
}
