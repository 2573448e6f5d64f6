// Single sign-on with the server's OpenID Connect provider. The sign-in form's "Sign in
// with <provider>" button leaves for the provider through /v1/auth/sso/start; the server
// sends the browser back to the page it left with `#sso=<one-time code>`, traded here for
// this app's tokens, or to `/app/#sso_error=<code>` when the sign-in failed.
import { ApiError, exchangeSso, getSsoConfig, ssoStartUrl } from "../api/client";
import type { SsoConfig, SsoError } from "../api/types";
import { describe, element } from "../shell";

export type SsoReturn = { kind: "handoff"; handoff: string } | { kind: "error"; code: string };

const RETURN_PATTERN = /^#(sso|sso_error)=([^&]+)$/;
// The server's limit on return_to: a longer address comes back to its path alone.
const MAX_RETURN_TO = 500;
const UNNAMED_PROVIDER = "your identity provider";

const ui = {
  block: element("sso", HTMLElement),
  button: element("sso-button", HTMLButtonElement),
};

let config: Promise<SsoConfig | null> | null = null;

/** The server's single sign-on settings, asked once a visit (null: no answer). */
function ssoConfig(): Promise<SsoConfig | null> {
  config ??= getSsoConfig().catch(() => null);
  return config;
}

async function providerName(): Promise<string> {
  const found = await ssoConfig();
  return (found?.enabled && found.name) || UNNAMED_PROVIDER;
}

/**
 * The provider's answer in the address, if the page was opened with one. The fragment
 * is dropped from the address at once: the code works once, and a reload, a bookmark or
 * the history should not carry it.
 */
export function takeSsoReturn(): SsoReturn | null {
  const match = RETURN_PATTERN.exec(window.location.hash);
  if (!match) return null;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", `${pathname}${search}`);
  const [, kind, raw] = match;
  if (raw === undefined) return null;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    value = raw;
  }
  return kind === "sso" ? { kind: "handoff", handoff: value } : { kind: "error", code: value };
}

/** This page, to come back to: the path and query (the server takes paths under /app/). */
function returnTo(): string {
  const { pathname, search } = window.location;
  const here = `${pathname}${search}`;
  return here.length <= MAX_RETURN_TO ? here : pathname;
}

/** Offers "Sign in with <provider>" under the sign-in form when the server has one. */
export function initSso(): void {
  ui.button.addEventListener("click", () => {
    window.location.assign(ssoStartUrl(returnTo()));
  });
  void ssoConfig().then((found) => {
    if (!found?.enabled) return;
    ui.button.textContent = `Sign in with ${found.name || "single sign-on"}`;
    ui.block.hidden = false;
  });
}

function isSsoError(code: string): code is SsoError {
  return [
    "sso_failed",
    "sso_denied",
    "sso_email_taken",
    "sso_no_email",
    "account_suspended",
  ].includes(code);
}

/** What a `#sso_error=` code means, said on the sign-in form. */
export async function ssoErrorMessage(code: string): Promise<string> {
  const name = await providerName();
  const known: SsoError = isSsoError(code) ? code : "sso_failed";
  switch (known) {
    case "sso_denied":
      return `Sign-in was cancelled at ${name}.`;
    case "sso_email_taken":
      return "An account with this email already exists. Sign in with your password.";
    case "sso_no_email":
      return `${name} did not share an email address, which an account needs: sign in another way.`;
    case "account_suspended":
      return "This account is suspended.";
    case "sso_failed":
      return `Sign-in with ${name} failed: please try again.`;
  }
}

/** Trades the `#sso=` code for tokens: null once signed in, else what went wrong. */
export async function finishSso(handoff: string): Promise<string | null> {
  try {
    await exchangeSso(handoff);
    return null;
  } catch (error) {
    if (error instanceof ApiError && error.code === "account_suspended") {
      return ssoErrorMessage("account_suspended");
    }
    // 401: the code is unknown, used or expired (a reload, or too slow).
    return `Sign-in with ${await providerName()} did not complete: ${describe(error)}`;
  }
}
