// A playback session's stream lease: heartbeats while the title is on, and the
// stop that frees the household's stream slot when it is not.
import { ApiError, heartbeatPlayback, stopPlaybackInBackground } from "../api/client";

export interface LeaseCallbacks {
  /** The server ended the session (410): stopped from elsewhere, or lapsed. */
  onEnded: (reason: ApiError) => void;
  /** After each accepted heartbeat. */
  onRenewed?: () => void;
}

export class StreamLease {
  readonly sessionId: string;
  private readonly callbacks: LeaseCallbacks;
  private intervalMs: number;
  private timer: number | null = null;
  private active = true;

  constructor(sessionId: string, heartbeatIntervalS: number, callbacks: LeaseCallbacks) {
    this.sessionId = sessionId;
    this.callbacks = callbacks;
    this.intervalMs = Math.max(1, heartbeatIntervalS) * 1000;
    this.schedule();
  }

  get live(): boolean {
    return this.active;
  }

  /** Ends the session on the server (keepalive: safe while the page goes away). */
  release(): void {
    if (!this.active) return;
    this.halt();
    stopPlaybackInBackground(this.sessionId);
  }

  /** Stops heartbeating without telling the server (it already knows). */
  halt(): void {
    this.active = false;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.active) return;
    this.timer = window.setTimeout(() => void this.beat(), this.intervalMs);
  }

  private async beat(): Promise<void> {
    this.timer = null;
    try {
      const renewed = await heartbeatPlayback(this.sessionId);
      if (!this.active) return;
      this.intervalMs = Math.max(1, renewed.heartbeat_interval_s) * 1000;
      this.callbacks.onRenewed?.();
    } catch (error) {
      if (!this.active) return;
      if (error instanceof ApiError && (error.status === 410 || error.status === 404)) {
        this.halt();
        this.callbacks.onEnded(error);
        return;
      }
      if (error instanceof ApiError && error.status === 401) {
        // Signed out: the client has already sent the page back to sign-in.
        this.halt();
        return;
      }
      // A network blip: the lease survives one missed beat, so try again on time.
    }
    this.schedule();
  }
}
