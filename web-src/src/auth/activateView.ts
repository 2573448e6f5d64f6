// /app/activate: a TV (or another device without a keyboard) shows a code, and the
// signed-in viewer approves or denies it here (RFC 8628's verification URI). The
// device's `verification_uri_complete` opens this page with `?user_code=` filled in.
import { ApiError, decideDevice } from "../api/client";
import type { DeviceRefusal } from "../api/types";
import { element, report, showError, showNotice, showView } from "../shell";

const ui = {
  form: element("activate-form", HTMLFormElement),
  code: element("activate-code", HTMLInputElement),
  approve: element("activate-approve", HTMLButtonElement),
  deny: element("activate-deny", HTMLButtonElement),
  done: element("activate-done", HTMLElement),
  again: element("activate-again", HTMLButtonElement),
};

/** What the sign-in form says when this page sends a signed-out viewer there. */
export const ACTIVATE_SIGN_IN_PROMPT = "Sign in to connect your device to Reelstack.";

const REFUSALS: Record<DeviceRefusal, string> = {
  device_code_expired: "This code has expired: start again on your device to get a new one.",
  device_code_used: "This code was already used: start again on your device if need be.",
  kids_profile: "A kids profile cannot sign in devices: switch to another profile, then try again.",
};

function isRefusal(code: string | null): code is DeviceRefusal {
  return code !== null && code in REFUSALS;
}

function setBusy(busy: boolean): void {
  ui.approve.disabled = busy;
  ui.deny.disabled = busy;
}

function showForm(): void {
  ui.form.hidden = false;
  ui.done.hidden = true;
  setBusy(false);
  ui.code.focus();
}

/** The page; the code typed so far stays (a sign-in on the way keeps it). */
export function showActivate(): Promise<void> {
  showView("activate");
  if (!ui.code.value) {
    ui.code.value = new URLSearchParams(window.location.search).get("user_code") ?? "";
  }
  showForm();
  return Promise.resolve();
}

async function decide(approve: boolean): Promise<void> {
  if (!ui.form.reportValidity()) return;
  const userCode = ui.code.value.trim();
  setBusy(true);
  showError(null);
  showNotice(null);
  try {
    const decided = await decideDevice(userCode, approve);
    ui.code.value = "";
    ui.form.hidden = true;
    ui.done.hidden = false;
    showNotice(
      decided.approved
        ? `${decided.client_name} is now signed in.`
        : `${decided.client_name} was not signed in.`,
    );
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      showError("No device is waiting for this code: check the code on your device.");
    } else if (error instanceof ApiError && isRefusal(error.code)) {
      showError(REFUSALS[error.code]);
    } else {
      // A 401 has sent the viewer to sign in; they come back here with the code.
      report(error);
      return;
    }
    ui.code.focus();
  } finally {
    setBusy(false);
  }
}

export function initActivate(): void {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void decide(true);
  });
  ui.deny.addEventListener("click", () => void decide(false));
  ui.again.addEventListener("click", () => {
    showError(null);
    showNotice(null);
    showForm();
  });
}
