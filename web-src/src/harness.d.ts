import type { ShakaPlayer } from "./player/player";

/** What the browser tests read off the page (tests/browser/). */
export interface ReelstackHarness {
  /** The shaka.Player instance, null until attached (or if unsupported). */
  player: ShakaPlayer | null;
  /** Every Shaka error: {code, category, severity, data}. */
  errors: object[];
  /** True once player.load() of the current title has resolved. */
  loaded: boolean;
  /** The view on screen ("starting" until the page knows whether it is signed in). */
  view: View;
  /** Heartbeats the server accepted for the current playback session. */
  heartbeats: number;
}

export type View =
  | "starting"
  | "sign-in"
  | "forgot-password"
  | "reset-password"
  | "profiles"
  | "catalog"
  | "account"
  | "activate"
  | "consent"
  | "analytics";

declare global {
  interface Window {
    __reelstack: ReelstackHarness;
  }
}
