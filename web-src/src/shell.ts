// The app shell: the views, the header navigation, the message lines and the test
// harness. Every view module shows itself through showView().
import { ApiError } from "./api/client";
import type { ReelstackHarness, View } from "./harness";
import { PlayerLoadError } from "./player/player";

export function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} missing from index.html`);
  return found;
}

const ui = {
  error: element("error", HTMLElement),
  notice: element("notice", HTMLElement),
  nav: element("nav", HTMLElement),
  navCatalog: element("nav-catalog", HTMLButtonElement),
  navProfiles: element("nav-profiles", HTMLButtonElement),
  navAccount: element("nav-account", HTMLButtonElement),
  navAnalytics: element("nav-analytics", HTMLButtonElement),
  video: element("video", HTMLVideoElement),
};

const views: Record<Exclude<View, "starting">, HTMLElement> = {
  "sign-in": element("sign-in", HTMLElement),
  "forgot-password": element("forgot-password-view", HTMLElement),
  "reset-password": element("reset-password-view", HTMLElement),
  profiles: element("profiles", HTMLElement),
  catalog: element("catalog-view", HTMLElement),
  account: element("account", HTMLElement),
  activate: element("activate-view", HTMLElement),
  consent: element("consent-view", HTMLElement),
  analytics: element("analytics-view", HTMLElement),
};

// Views of a signed-out visitor, and the OAuth pages another device or app sent the
// viewer to (they lead back there, not into the app): no navigation.
const NO_NAV_VIEWS: ReadonlySet<View> = new Set([
  "starting",
  "sign-in",
  "forgot-password",
  "reset-password",
  "activate",
  "consent",
]);

export const harness: ReelstackHarness = {
  player: null,
  errors: [],
  loaded: false,
  view: "starting",
  heartbeats: 0,
};
window.__reelstack = harness;

export function showError(message: string | null): void {
  ui.error.textContent = message ?? "";
  ui.error.hidden = message === null;
}

/** Good news ("Your email address is confirmed"); it stays until another view shows. */
export function showNotice(message: string | null): void {
  ui.notice.textContent = message ?? "";
  ui.notice.hidden = message === null;
}

export function describe(error: unknown): string {
  if (error instanceof ApiError || error instanceof PlayerLoadError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Shows a failed call, except a lost sign-in: the signed-out handler has dealt with it. */
export function report(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  showError(describe(error));
}

export function showView(view: View): void {
  // A notice belongs to the view it was shown on (the first view inherits start-up's).
  if (harness.view !== "starting" && harness.view !== view) showNotice(null);
  for (const [name, section] of Object.entries(views)) section.hidden = name !== view;
  ui.nav.hidden = NO_NAV_VIEWS.has(view);
  const navFor: [HTMLButtonElement, View][] = [
    [ui.navCatalog, "catalog"],
    [ui.navProfiles, "profiles"],
    [ui.navAccount, "account"],
    [ui.navAnalytics, "analytics"],
  ];
  for (const [button, target] of navFor) {
    if (target === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  // The player keeps its session off-screen; it just does not play on unseen.
  if (view !== "catalog" && !ui.video.paused) ui.video.pause();
  harness.view = view;
}

/** The header's buttons, wired by the router. */
export const nav = {
  catalog: ui.navCatalog,
  profiles: ui.navProfiles,
  account: ui.navAccount,
  analytics: ui.navAnalytics,
};
