// Which view the app opens on: an email link or a single sign-on answer in the address,
// an OAuth page's path (/app/activate, /app/authorize), the stored sign-in, or the
// sign-in form; and the header navigation between the signed-in views.
import { ApiError, getAccount, isSignedIn, setSignedOutHandler } from "./api/client";
import type { Account } from "./api/types";
import { initAccount, showAccount } from "./account/accountPage";
import { initAnalytics, showAnalytics } from "./admin/analyticsView";
import { initProfiles, showProfiles } from "./account/profilesView";
import { ACTIVATE_SIGN_IN_PROMPT, initActivate, showActivate } from "./auth/activateView";
import { CONSENT_SIGN_IN_PROMPT, initConsent, showConsent } from "./auth/consentView";
import { confirmEmail, takeEmailLink } from "./auth/emailLinks";
import { initPasswordReset, showResetPassword } from "./auth/passwordReset";
import { initSignIn, showSignIn } from "./auth/signInView";
import { finishSso, initSso, ssoErrorMessage, takeSsoReturn } from "./auth/sso";
import { enterCatalog, watchingProfile } from "./catalog/catalogView";
import { setProfileRequiredHandler } from "./player/playback";
import { describe, harness, nav, showNotice } from "./shell";

interface OAuthPage {
  show: () => Promise<void>;
  signInPrompt: string;
}

// The pages another device or app sends the viewer to; a sign-in on the way comes back.
const OAUTH_PAGES: Record<string, OAuthPage> = {
  "/app/activate": { show: showActivate, signInPrompt: ACTIVATE_SIGN_IN_PROMPT },
  "/app/authorize": { show: showConsent, signInPrompt: CONSENT_SIGN_IN_PROMPT },
};

/** The OAuth page this visit opened on (the path never changes within a visit). */
function oauthPage(): OAuthPage | null {
  return OAUTH_PAGES[window.location.pathname.replace(/\/+$/, "")] ?? null;
}

// Staff (admins, editors) see the analytics dashboard; `?view=analytics` opens on it.
const STAFF_ROLES: ReadonlySet<Account["role"]> = new Set(["admin", "editor"]);

function wantsAnalytics(): boolean {
  return new URLSearchParams(window.location.search).get("view") === "analytics";
}

function showStaffNav(account: Account): void {
  nav.analytics.hidden = !STAFF_ROLES.has(account.role);
}

/** After a sign-in: back to the OAuth page this visit is for, else "Who's watching?". */
async function signedIn(): Promise<void> {
  const page = oauthPage();
  if (page) {
    await page.show();
    return;
  }
  // Best effort: the header's staff link; the dashboard itself says when it is refused.
  getAccount().then(showStaffNav, () => undefined);
  if (wantsAnalytics()) await showAnalytics();
  else await showProfiles();
}

/** Signed in already (stored tokens): straight to the profile this device picked. */
async function resume(): Promise<void> {
  try {
    const account = await getAccount();
    showStaffNav(account);
    if (wantsAnalytics()) {
      await showAnalytics();
      return;
    }
    const picked = account.profiles.find((p) => p.id === account.profile_id);
    if (picked) await enterCatalog(picked);
    else await showProfiles(account.profiles);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    showSignIn(describe(error));
  }
}

/**
 * The app as a visit starts it: the OAuth page the address names (after a sign-in), or
 * where this device was when signed in; else the form.
 */
async function home(message: string | null = null): Promise<void> {
  const page = oauthPage();
  if (page && isSignedIn()) {
    await page.show();
  } else if (page) {
    showSignIn();
    showNotice(page.signInPrompt);
  } else if (isSignedIn()) {
    await resume();
  } else {
    showSignIn(message);
  }
}

/** An email link opened while the app is already open (only the fragment changed). */
async function onHashChange(): Promise<void> {
  const link = takeEmailLink();
  if (!link) return;
  if (link.kind === "reset") {
    showResetPassword(link.token);
    return;
  }
  const confirmed = await confirmEmail(link.token);
  // The account page shows whether the address is confirmed.
  if (confirmed && harness.view === "account") await showAccount();
}

/** Wires the views together and opens the first one; `message` is a start-up problem. */
export async function start(message: string | null): Promise<void> {
  initSignIn({ signedIn });
  initSso();
  initPasswordReset({ home });
  initActivate();
  initConsent();
  initProfiles();
  initAccount();
  initAnalytics();
  nav.catalog.addEventListener("click", () => {
    const profile = watchingProfile();
    if (profile) void enterCatalog(profile);
  });
  nav.profiles.addEventListener("click", () => void showProfiles());
  nav.account.addEventListener("click", () => void showAccount());
  nav.analytics.addEventListener("click", () => void showAnalytics());
  setProfileRequiredHandler(() => showProfiles());
  setSignedOutHandler(() => showSignIn("Your sign-in has ended: sign in again."));
  window.addEventListener("hashchange", () => void onHashChange());

  // Back from the identity provider: signed in (as after the form), or why not.
  const sso = takeSsoReturn();
  if (sso) {
    const failed =
      sso.kind === "handoff" ? await finishSso(sso.handoff) : await ssoErrorMessage(sso.code);
    if (failed === null) await signedIn();
    else showSignIn(failed);
    return;
  }
  const link = takeEmailLink();
  if (link?.kind === "reset") {
    showResetPassword(link.token);
    return;
  }
  await home(message);
  // Confirming needs no sign-in: its message shows on whichever view opened.
  if (link?.kind === "verify") await confirmEmail(link.token);
}
