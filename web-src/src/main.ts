import "./style.css";
import {
  ApiError,
  createPlayback,
  getAccount,
  isSignedIn,
  listDevices,
  listLiveStreams,
  listProfiles,
  listTitles,
  login,
  logout,
  logoutEverywhere,
  removeDevice,
  selectProfile,
  setSignedOutHandler,
  signUp,
  stopPlayback,
} from "./api/client";
import { tokens } from "./api/tokens";
import type {
  Device,
  LiveStream,
  PlaybackRefusal,
  PlaybackSession,
  Profile,
  Title,
} from "./api/types";
import type { ReelstackHarness, View } from "./harness";
import { renderAccountSummary, renderDevices, renderStreams } from "./account/accountView";
import { renderProfiles } from "./account/profilePicker";
import { markSelected, renderTitleList } from "./catalog/titleList";
import {
  applyQualityChoice,
  renderAudioOptions,
  renderQualityOptions,
  renderStats,
} from "./player/controls";
import { StreamLease } from "./player/lease";
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
const PIN_PATTERN = /^[0-9]{4}$/;

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
  nav: element("nav", HTMLElement),
  whoami: element("whoami", HTMLElement),
  navCatalog: element("nav-catalog", HTMLButtonElement),
  navProfiles: element("nav-profiles", HTMLButtonElement),
  navAccount: element("nav-account", HTMLButtonElement),
  signInHeading: element("sign-in-heading", HTMLElement),
  signInForm: element("sign-in-form", HTMLFormElement),
  signInEmail: element("sign-in-email", HTMLInputElement),
  signInPassword: element("sign-in-password", HTMLInputElement),
  signInSubmit: element("sign-in-submit", HTMLButtonElement),
  signInSwitch: element("sign-in-switch", HTMLButtonElement),
  signInSwitchText: element("sign-in-switch-text", HTMLElement),
  profileList: element("profile-list", HTMLElement),
  pinForm: element("pin-form", HTMLFormElement),
  pin: element("pin", HTMLInputElement),
  pinProfile: element("pin-profile", HTMLElement),
  pinCancel: element("pin-cancel", HTMLButtonElement),
  accountSummary: element("account-summary", HTMLElement),
  deviceList: element("device-list", HTMLElement),
  streamList: element("stream-list", HTMLElement),
  signOut: element("sign-out", HTMLButtonElement),
  signOutAll: element("sign-out-all", HTMLButtonElement),
};

const views: Record<Exclude<View, "starting">, HTMLElement> = {
  "sign-in": element("sign-in", HTMLElement),
  profiles: element("profiles", HTMLElement),
  catalog: element("catalog-view", HTMLElement),
  account: element("account", HTMLElement),
};

const harness: ReelstackHarness = {
  player: null,
  errors: [],
  loaded: false,
  view: "starting",
  heartbeats: 0,
};
window.__reelstack = harness;

function showError(message: string | null): void {
  ui.error.textContent = message ?? "";
  ui.error.hidden = message === null;
}

function describe(error: unknown): string {
  if (error instanceof ApiError || error instanceof PlayerLoadError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Shows a failed call, except a lost sign-in: the signed-out handler has dealt with it. */
function report(error: unknown): void {
  if (error instanceof ApiError && error.status === 401) return;
  showError(describe(error));
}

function showView(view: View): void {
  for (const [name, section] of Object.entries(views)) section.hidden = name !== view;
  ui.nav.hidden = view === "starting" || view === "sign-in";
  const navFor: [HTMLButtonElement, View][] = [
    [ui.navCatalog, "catalog"],
    [ui.navProfiles, "profiles"],
    [ui.navAccount, "account"],
  ];
  for (const [button, target] of navFor) {
    if (target === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  // The player keeps its session off-screen; it just does not play on unseen.
  if (view !== "catalog" && !ui.video.paused) ui.video.pause();
  harness.view = view;
}

let player: VideoPlayer | null = null;
let current: { titleId: string; session: PlaybackSession } | null = null;
// The stream lease of `current`: heartbeats until the title is stopped or replaced.
let lease: StreamLease | null = null;
// Each selection bumps this, so a slow earlier request cannot win over a newer click.
let generation = 0;
// The profile watching now; null while signed out or not yet picked.
let profile: Profile | null = null;
// ?title=...: played once a profile is picked.
let deepLink: { titleId: string; autoplay: boolean } | null = null;
// Title names from the last catalogue read, for the account page's stream list.
const titleNames = new Map<string, string>();

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

// --- playback ---------------------------------------------------------------------------

/**
 * Stops the player and ends the stream. `tellServer` false only halts the heartbeats
 * (signed out: the server has nothing left to hear from this page).
 */
async function stopPlaying({ tellServer = true }: { tellServer?: boolean } = {}): Promise<void> {
  ++generation;
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

function isRefusal(error: unknown, code: PlaybackRefusal): boolean {
  return error instanceof ApiError && error.status === 403 && error.code === code;
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
  // Free the stream slot first: a one-stream plan would refuse the new session.
  const previous = lease;
  lease = null;
  if (previous?.live) {
    previous.halt();
    await stopPlayback(previous.sessionId).catch(() => undefined);
  }
  try {
    const session = await createPlayback(titleId);
    if (token !== generation) {
      await stopPlayback(session.session_id).catch(() => undefined);
      return;
    }
    current = { titleId, session };
    startLease(session);
    await loadSession(session, autoplay, token, muted);
  } catch (error) {
    if (token !== generation) return;
    // Refusals (403) carry a `detail` written for the viewer.
    report(error);
    // Do not leave the previous title playing under the new title's name.
    current = null;
    await player?.stop();
    refreshPlayerUi();
    if (isRefusal(error, "profile_required")) await showProfiles();
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

// --- catalogue ----------------------------------------------------------------------------

/** How often the catalogue is re-read while a title is still processing. */
const CATALOG_REFRESH_MS = 3000;
let catalogTimer: number | null = null;

function cancelCatalogRefresh(): void {
  if (catalogTimer !== null) window.clearTimeout(catalogTimer);
  catalogTimer = null;
}

async function loadCatalog(): Promise<void> {
  cancelCatalogRefresh();
  const watching = profile;
  ui.titles.setAttribute("aria-busy", "true");
  try {
    const page = await listTitles();
    // Signed out or switched profile meanwhile: this list is not theirs.
    if (profile !== watching || profile === null) return;
    for (const item of page.items) titleNames.set(item.id, item.title);
    renderTitleList(ui.titles, page.items, (title: Title) =>
      // A click is a user gesture: play at once, with sound.
      void playTitle(title.id, true, title.title, false),
    );
    // Titles still transcoding turn playable by themselves: look again shortly.
    if (page.items.some((item) => item.status === "processing")) {
      catalogTimer = window.setTimeout(() => void loadCatalog(), CATALOG_REFRESH_MS);
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
    report(error);
  } finally {
    ui.titles.removeAttribute("aria-busy");
  }
}

async function enterCatalog(watching: Profile): Promise<void> {
  profile = watching;
  ui.whoami.textContent = `Watching as ${watching.name}`;
  ui.whoami.dataset["profileId"] = watching.id;
  showView("catalog");
  const catalog = loadCatalog();
  const link = deepLink;
  deepLink = null;
  if (link && player) await playTitle(link.titleId, link.autoplay);
  await catalog;
}

// --- sign-in ------------------------------------------------------------------------------

let signUpMode = false;

function setSignUpMode(on: boolean): void {
  signUpMode = on;
  ui.signInHeading.textContent = on ? "Create an account" : "Sign in";
  ui.signInSubmit.textContent = on ? "Create account" : "Sign in";
  ui.signInSwitchText.textContent = on ? "Already have an account?" : "New here?";
  ui.signInSwitch.textContent = on ? "Sign in" : "Create an account";
  ui.signInPassword.autocomplete = on ? "new-password" : "current-password";
  // The server's minimum for new passwords; existing ones are only checked there.
  ui.signInPassword.minLength = on ? 10 : 0;
}

/** Back to the sign-in form (signed out, or the sign-in ended on the server). */
function showSignIn(message: string | null = null): void {
  profile = null;
  cancelCatalogRefresh();
  void stopPlaying({ tellServer: false });
  ui.titles.replaceChildren();
  ui.whoami.textContent = "";
  delete ui.whoami.dataset["profileId"];
  ui.pinForm.hidden = true;
  setSignUpMode(false);
  showView("sign-in");
  showError(message);
  ui.signInEmail.focus();
}

async function onSignInSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const email = ui.signInEmail.value.trim();
  const password = ui.signInPassword.value;
  ui.signInSubmit.disabled = true;
  showError(null);
  try {
    if (signUpMode) await signUp(email, password);
    await login(email, password);
    ui.signInPassword.value = "";
    await showProfiles();
  } catch (error) {
    // Not report(): a 401 here is a wrong password, to be shown.
    showError(describe(error));
  } finally {
    ui.signInSubmit.disabled = false;
  }
}

// --- profiles -----------------------------------------------------------------------------

// The PIN-locked profile whose PIN the form asks for.
let pinFor: Profile | null = null;

function closePinForm(): void {
  pinFor = null;
  ui.pin.value = "";
  ui.pinForm.hidden = true;
}

async function showProfiles(known?: Profile[]): Promise<void> {
  profile = null;
  cancelCatalogRefresh();
  // The next profile may not be allowed what this one was watching.
  await stopPlaying();
  ui.titles.replaceChildren();
  ui.whoami.textContent = "";
  delete ui.whoami.dataset["profileId"];
  closePinForm();
  showView("profiles");
  ui.profileList.setAttribute("aria-busy", "true");
  try {
    const profiles = known ?? (await listProfiles());
    renderProfiles(ui.profileList, profiles, onProfileClick);
  } catch (error) {
    report(error);
  } finally {
    ui.profileList.removeAttribute("aria-busy");
  }
}

function onProfileClick(chosen: Profile): void {
  showError(null);
  if (!chosen.has_pin) {
    closePinForm();
    void chooseProfile(chosen);
    return;
  }
  pinFor = chosen;
  ui.pinProfile.textContent = chosen.name;
  ui.pin.value = "";
  ui.pinForm.hidden = false;
  ui.pin.focus();
}

async function onPinSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  if (!pinFor) return;
  const pin = ui.pin.value.trim();
  if (!PIN_PATTERN.test(pin)) {
    showError("The PIN is 4 digits.");
    return;
  }
  await chooseProfile(pinFor, pin);
}

async function chooseProfile(chosen: Profile, pin?: string): Promise<void> {
  try {
    await selectProfile(chosen.id, pin);
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_pin") {
      showError(`Wrong PIN for ${chosen.name}: try again.`);
      ui.pin.value = "";
      ui.pin.focus();
      return;
    }
    report(error);
    return;
  }
  closePinForm();
  showError(null);
  await enterCatalog(chosen);
}

// --- account ------------------------------------------------------------------------------

async function showAccount(): Promise<void> {
  showView("account");
  ui.accountSummary.setAttribute("aria-busy", "true");
  try {
    const [account, devices, streams] = await Promise.all([
      getAccount(),
      listDevices(),
      listLiveStreams(),
    ]);
    renderAccountSummary(ui.accountSummary, account);
    renderDevices(ui.deviceList, devices, (device) => void onRemoveDevice(device));
    const profileNames = new Map(account.profiles.map((p) => [p.id, p.name]));
    const deviceNames = new Map(devices.map((d) => [d.id, d.name]));
    renderStreams(
      ui.streamList,
      streams,
      {
        title: (id) => titleNames.get(id),
        profile: (id) => profileNames.get(id),
        device: (id) => deviceNames.get(id),
      },
      (stream) => void onEndStream(stream),
    );
  } catch (error) {
    report(error);
  } finally {
    ui.accountSummary.removeAttribute("aria-busy");
  }
}

async function onRemoveDevice(device: Device): Promise<void> {
  showError(null);
  try {
    // This device: end its stream while its token still works.
    if (device.current) await stopPlaying();
    await removeDevice(device.id);
  } catch (error) {
    report(error);
    await showAccount();
    return;
  }
  if (device.current) {
    tokens.clear({ forgetDevice: true });
    showSignIn("This browser was removed from your devices: sign in again.");
    return;
  }
  await showAccount();
}

async function onEndStream(stream: LiveStream): Promise<void> {
  showError(null);
  try {
    if (lease && stream.session_id === lease.sessionId) await stopPlaying();
    else await stopPlayback(stream.session_id);
  } catch (error) {
    report(error);
  }
  await showAccount();
}

async function signOut(everywhere: boolean): Promise<void> {
  showError(null);
  await stopPlaying();
  try {
    if (everywhere) await logoutEverywhere();
    else await logout();
  } catch (error) {
    report(error);
    return;
  }
  showSignIn(everywhere ? "Signed out on every device." : null);
}

// --- start-up -----------------------------------------------------------------------------

/** Signed in already (stored tokens): straight to the profile this device picked. */
async function resume(): Promise<void> {
  try {
    const account = await getAccount();
    const picked = account.profiles.find((p) => p.id === account.profile_id);
    if (picked) await enterCatalog(picked);
    else await showProfiles(account.profiles);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    showSignIn(describe(error));
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const protocol = params.get("protocol");
  if (isProtocol(protocol)) ui.protocol.value = protocol;
  const titleId = params.get("title");
  if (titleId) deepLink = { titleId, autoplay: params.get("autoplay") === "1" };

  ui.protocol.addEventListener("change", () => void switchProtocol());
  ui.quality.addEventListener("change", () => {
    if (player) applyQualityChoice(ui.quality, player);
  });
  ui.audio.addEventListener("change", () => player?.selectAudio(ui.audio.value));
  ui.signInForm.addEventListener("submit", (event) => void onSignInSubmit(event));
  ui.signInSwitch.addEventListener("click", () => {
    setSignUpMode(!signUpMode);
    showError(null);
  });
  ui.pinForm.addEventListener("submit", (event) => void onPinSubmit(event));
  ui.pinCancel.addEventListener("click", () => {
    closePinForm();
    showError(null);
  });
  ui.navCatalog.addEventListener("click", () => {
    if (profile) void enterCatalog(profile);
  });
  ui.navProfiles.addEventListener("click", () => void showProfiles());
  ui.navAccount.addEventListener("click", () => void showAccount());
  ui.signOut.addEventListener("click", () => void signOut(false));
  ui.signOutAll.addEventListener("click", () => void signOut(true));

  // A page going away frees its stream slot at once (keepalive), not after the lease.
  window.addEventListener("pagehide", () => lease?.release());
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: the stream was ended on the way out.
    if (event.persisted && current && profile) {
      void playTitle(current.titleId, false, ui.nowPlaying.textContent ?? undefined);
    }
  });
  setSignedOutHandler(() => showSignIn("Your sign-in has ended: sign in again."));

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

  if (isSignedIn()) await resume();
  else showSignIn(player ? null : ui.error.textContent);
}

void start();
