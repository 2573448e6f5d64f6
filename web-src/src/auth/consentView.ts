// /app/authorize: the consent page of the authorization code flow. The server's
// /oauth/authorize checks an app's request and sends the browser here with the same
// query string; the signed-in viewer allows or denies, and the browser goes back to the
// app (its redirect URI, with a one-time code or `error=access_denied`).
import { ApiError, answerConsent, getConsent } from "../api/client";
import type { ConsentOut } from "../api/types";
import { element, report, showError, showView } from "../shell";

const ui = {
  client: element("consent-client", HTMLElement),
  scopes: element("consent-scopes", HTMLUListElement),
  returnTo: element("consent-return", HTMLElement),
  returnHost: element("consent-return-host", HTMLElement),
  answers: element("consent-answers", HTMLElement),
  allow: element("consent-allow", HTMLButtonElement),
  deny: element("consent-deny", HTMLButtonElement),
};

/** What the sign-in form says when this page sends a signed-out viewer there. */
export const CONSENT_SIGN_IN_PROMPT = "Sign in to Reelstack to continue to the app that sent you.";

const SCOPE_TEXT: Record<string, string> = {
  openid: "sign you in with your Reelstack account",
  email: "see your email address",
  profile: "see your profile",
  offline_access: "stay signed in when you are not using it",
};

/** The authorization request, as /oauth/authorize passed it on (without the "?"). */
function authorizationQuery(): string {
  return window.location.search.replace(/^\?/, "");
}

function describeRequestError(error: unknown): boolean {
  if (error instanceof ApiError && error.code === "invalid_authorization_request") {
    showError(`This sign-in request is not valid: ${error.message}`);
    return true;
  }
  if (error instanceof ApiError && error.code === "kids_profile") {
    showError("A kids profile cannot sign in to other apps: switch to another profile first.");
    return true;
  }
  return false;
}

function render(consent: ConsentOut): void {
  ui.client.textContent = consent.client_name;
  ui.scopes.replaceChildren(
    ...consent.scope.map((scope) => {
      const item = document.createElement("li");
      item.dataset.scope = scope;
      item.textContent = SCOPE_TEXT[scope] ?? scope;
      return item;
    }),
  );
  let host: string | null = null;
  try {
    host = consent.redirect_uri ? new URL(consent.redirect_uri).host : null;
  } catch {
    host = null;
  }
  ui.returnHost.textContent = host ?? "";
  ui.returnTo.hidden = host === null;
  ui.answers.hidden = false;
}

/** The page: which app asks for what, with Allow and Deny once that is known. */
export async function showConsent(): Promise<void> {
  showView("consent");
  showError(null);
  ui.client.textContent = "An app";
  ui.scopes.replaceChildren();
  ui.returnTo.hidden = true;
  ui.answers.hidden = true;
  const query = authorizationQuery();
  if (!query) {
    showError("This page answers an app's sign-in request; none came with it.");
    return;
  }
  ui.scopes.setAttribute("aria-busy", "true");
  try {
    render(await getConsent(query));
  } catch (error) {
    if (!describeRequestError(error)) report(error);
  } finally {
    ui.scopes.removeAttribute("aria-busy");
  }
}

async function answer(approve: boolean): Promise<void> {
  ui.allow.disabled = true;
  ui.deny.disabled = true;
  showError(null);
  let redirectTo: string;
  try {
    redirectTo = (await answerConsent(authorizationQuery(), approve)).redirect_to;
  } catch (error) {
    if (!describeRequestError(error)) report(error);
    ui.allow.disabled = false;
    ui.deny.disabled = false;
    return;
  }
  // Back to the app; the buttons stay disabled (the code works once).
  window.location.assign(redirectTo);
}

export function initConsent(): void {
  ui.allow.addEventListener("click", () => void answer(true));
  ui.deny.addEventListener("click", () => void answer(false));
}
