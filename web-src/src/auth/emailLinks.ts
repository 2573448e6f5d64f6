// The links the server mails open the app with a token in the fragment:
// `/app/#verify=<token>` (confirm the address) and `/app/#reset=<token>` (new password).
import { verifyEmail } from "../api/client";
import { describe, showError, showNotice } from "../shell";

export interface EmailLink {
  kind: "verify" | "reset";
  token: string;
}

const LINK_PATTERN = /^#(verify|reset)=([^&]+)$/;

/**
 * The email link in the address, if the page was opened with one. The fragment is
 * dropped from the address at once: the token works once, and a reload, a bookmark or
 * the history should not carry it.
 */
export function takeEmailLink(): EmailLink | null {
  const match = LINK_PATTERN.exec(window.location.hash);
  if (!match) return null;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", `${pathname}${search}`);
  const [, kind, raw] = match;
  if ((kind !== "verify" && kind !== "reset") || raw === undefined) return null;
  let token: string;
  try {
    token = decodeURIComponent(raw);
  } catch {
    token = raw;
  }
  return { kind, token };
}

/** Spends a verification link; says how it went. True when the address is confirmed. */
export async function confirmEmail(token: string): Promise<boolean> {
  try {
    const verified = await verifyEmail(token);
    showNotice(`Your email address is confirmed: ${verified.email}.`);
    return true;
  } catch (error) {
    // 400 invalid_token: used, expired or unknown; its detail says which.
    showError(`Your email address could not be confirmed: ${describe(error)}`);
    return false;
  }
}
