// The account page: plan, devices, live streams, the address's confirmation, the
// password, and signing out.
import {
  ApiError,
  changePassword,
  getAccount,
  listDevices,
  listLiveStreams,
  logout,
  logoutEverywhere,
  removeDevice,
  requestEmailVerification,
  stopPlayback,
} from "../api/client";
import { tokens } from "../api/tokens";
import type { Device, LiveStream } from "../api/types";
import { MIN_NEW_PASSWORD_CHARS, showSignIn } from "../auth/signInView";
import { titleName } from "../catalog/catalogView";
import { leasedSessionId, stopPlaying } from "../player/playback";
import { describe, element, report, showError, showNotice, showView } from "../shell";
import { renderAccountSummary, renderDevices, renderStreams } from "./accountView";

const ui = {
  accountSummary: element("account-summary", HTMLElement),
  deviceList: element("device-list", HTMLElement),
  streamList: element("stream-list", HTMLElement),
  signOut: element("sign-out", HTMLButtonElement),
  signOutAll: element("sign-out-all", HTMLButtonElement),
  unverified: element("email-unverified", HTMLElement),
  resendVerification: element("resend-verification", HTMLButtonElement),
  passwordForm: element("password-form", HTMLFormElement),
  passwordUsername: element("password-username", HTMLInputElement),
  passwordCurrent: element("password-current", HTMLInputElement),
  passwordNew: element("password-new", HTMLInputElement),
  passwordSubmit: element("password-submit", HTMLButtonElement),
};

export async function showAccount(): Promise<void> {
  showView("account");
  ui.accountSummary.setAttribute("aria-busy", "true");
  try {
    const [account, devices, streams] = await Promise.all([
      getAccount(),
      listDevices(),
      listLiveStreams(),
    ]);
    renderAccountSummary(ui.accountSummary, account);
    ui.unverified.hidden = account.email_verified;
    ui.passwordUsername.value = account.email;
    renderDevices(ui.deviceList, devices, (device) => void onRemoveDevice(device));
    const profileNames = new Map(account.profiles.map((p) => [p.id, p.name]));
    const deviceNames = new Map(devices.map((d) => [d.id, d.name]));
    renderStreams(
      ui.streamList,
      streams,
      {
        title: titleName,
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
    if (stream.session_id === leasedSessionId()) await stopPlaying();
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

async function onResendVerification(): Promise<void> {
  ui.resendVerification.disabled = true;
  showError(null);
  showNotice(null);
  try {
    const sent = await requestEmailVerification();
    showNotice(sent.detail || "A link to confirm your email address is on its way.");
  } catch (error) {
    if (error instanceof ApiError && error.code === "email_already_verified") {
      // Confirmed meanwhile (another tab, another device): say so and show it.
      showNotice(error.message);
      await showAccount();
    } else {
      // 429 too many requests: its detail says to wait.
      report(error);
    }
  } finally {
    ui.resendVerification.disabled = false;
  }
}

async function onChangePassword(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  ui.passwordSubmit.disabled = true;
  showError(null);
  showNotice(null);
  try {
    await changePassword(ui.passwordCurrent.value, ui.passwordNew.value);
  } catch (error) {
    if (error instanceof ApiError && error.code === "wrong_password") {
      showError(describe(error));
      ui.passwordCurrent.value = "";
      ui.passwordCurrent.focus();
    } else {
      report(error);
    }
    return;
  } finally {
    ui.passwordSubmit.disabled = false;
  }
  ui.passwordCurrent.value = "";
  ui.passwordNew.value = "";
  showNotice("Password changed. Your other devices were signed out; this one stays signed in.");
  await showAccount();
}

export function initAccount(): void {
  ui.passwordNew.minLength = MIN_NEW_PASSWORD_CHARS;
  ui.signOut.addEventListener("click", () => void signOut(false));
  ui.signOutAll.addEventListener("click", () => void signOut(true));
  ui.resendVerification.addEventListener("click", () => void onResendVerification());
  ui.passwordForm.addEventListener("submit", (event) => void onChangePassword(event));
}
