// A forgotten password: "Forgot password?" asks for a link by email, and the link
// (`/app/#reset=<token>`) opens the form that sets a new password.
import { ApiError, requestPasswordReset, resetPassword } from "../api/client";
import { tokens } from "../api/tokens";
import { describe, element, showError, showNotice, showView } from "../shell";
import { MIN_NEW_PASSWORD_CHARS, showSignIn, signInEmail } from "./signInView";

const ui = {
  forgotLink: element("forgot-password", HTMLButtonElement),
  forgotForm: element("forgot-form", HTMLFormElement),
  forgotEmail: element("forgot-email", HTMLInputElement),
  forgotSubmit: element("forgot-submit", HTMLButtonElement),
  forgotBack: element("forgot-back", HTMLButtonElement),
  resetForm: element("reset-form", HTMLFormElement),
  resetPassword: element("reset-new-password", HTMLInputElement),
  resetSubmit: element("reset-submit", HTMLButtonElement),
  resetBack: element("reset-back", HTMLButtonElement),
};

// The token of the reset link being used; only ever in memory (the URL drops it).
let resetToken: string | null = null;

function showForgotPassword(email: string): void {
  showView("forgot-password");
  ui.forgotEmail.value = email;
  ui.forgotEmail.focus();
}

async function onForgotSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const email = ui.forgotEmail.value.trim();
  ui.forgotSubmit.disabled = true;
  showError(null);
  try {
    // 202 whether the address has an account or not: the page cannot tell either.
    const sent = await requestPasswordReset(email);
    showSignIn(null, email);
    showNotice(sent.detail || "If an account exists for this address, we sent it a link.");
  } catch (error) {
    // A 429 says when to ask again.
    showError(describe(error));
  } finally {
    ui.forgotSubmit.disabled = false;
  }
}

/** The form of a reset link (whether or not this browser is signed in). */
export function showResetPassword(token: string): void {
  resetToken = token;
  ui.resetPassword.value = "";
  showView("reset-password");
  ui.resetPassword.focus();
}

async function onResetSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  if (resetToken === null) return;
  ui.resetSubmit.disabled = true;
  showError(null);
  try {
    await resetPassword(resetToken, ui.resetPassword.value);
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_token") {
      // Used, expired or unknown: only a new link helps.
      resetToken = null;
      showForgotPassword(signInEmail());
      showError(`This reset link does not work: ${error.message}. Ask for a new one here.`);
    } else {
      showError(describe(error));
    }
    return;
  } finally {
    ui.resetSubmit.disabled = false;
  }
  resetToken = null;
  ui.resetPassword.value = "";
  // The server signed out every device, this browser too if it was signed in.
  tokens.clear();
  showSignIn();
  showNotice("Password changed: sign in again with your new password.");
}

/** `home` is where "Back" leads from a reset link: the sign-in form or the app. */
export function initPasswordReset({ home }: { home: () => Promise<void> }): void {
  ui.resetPassword.minLength = MIN_NEW_PASSWORD_CHARS;
  ui.forgotLink.addEventListener("click", () => {
    showError(null);
    showForgotPassword(signInEmail());
  });
  ui.forgotForm.addEventListener("submit", (event) => void onForgotSubmit(event));
  ui.forgotBack.addEventListener("click", () => {
    showError(null);
    showSignIn();
  });
  ui.resetForm.addEventListener("submit", (event) => void onResetSubmit(event));
  ui.resetBack.addEventListener("click", () => {
    resetToken = null;
    showError(null);
    void home();
  });
}
