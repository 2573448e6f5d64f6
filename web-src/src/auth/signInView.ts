// The sign-in form, which also opens an account ("Create an account").
import { login, signUp } from "../api/client";
import { closePinForm, showProfiles } from "../account/profilesView";
import { leaveCatalog } from "../catalog/catalogView";
import { stopPlaying } from "../player/playback";
import { describe, element, showError, showNotice, showView } from "../shell";

// The server's minimum for new passwords; existing ones are only checked there.
export const MIN_NEW_PASSWORD_CHARS = 10;

const ui = {
  heading: element("sign-in-heading", HTMLElement),
  form: element("sign-in-form", HTMLFormElement),
  email: element("sign-in-email", HTMLInputElement),
  password: element("sign-in-password", HTMLInputElement),
  submit: element("sign-in-submit", HTMLButtonElement),
  switchMode: element("sign-in-switch", HTMLButtonElement),
  switchText: element("sign-in-switch-text", HTMLElement),
  forgotHint: element("forgot-password-hint", HTMLElement),
};

let signUpMode = false;

// Where a sign-in leads: "Who's watching?", unless the router says otherwise.
let afterSignIn: () => Promise<void> = () => showProfiles();

function setSignUpMode(on: boolean): void {
  signUpMode = on;
  ui.heading.textContent = on ? "Create an account" : "Sign in";
  ui.submit.textContent = on ? "Create account" : "Sign in";
  ui.switchText.textContent = on ? "Already have an account?" : "New here?";
  ui.switchMode.textContent = on ? "Sign in" : "Create an account";
  ui.password.autocomplete = on ? "new-password" : "current-password";
  ui.password.minLength = on ? MIN_NEW_PASSWORD_CHARS : 0;
  ui.forgotHint.hidden = on;
}

/** The address typed into the sign-in form (for the forgot-password form). */
export function signInEmail(): string {
  return ui.email.value.trim();
}

/** Back to the sign-in form (signed out, or the sign-in ended on the server). */
export function showSignIn(message: string | null = null, email?: string): void {
  leaveCatalog();
  void stopPlaying({ tellServer: false });
  closePinForm();
  setSignUpMode(false);
  showView("sign-in");
  showError(message);
  if (email !== undefined) ui.email.value = email;
  if (email) ui.password.focus();
  else ui.email.focus();
}

async function onSubmit(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const email = ui.email.value.trim();
  const password = ui.password.value;
  const signingUp = signUpMode;
  ui.submit.disabled = true;
  showError(null);
  showNotice(null);
  try {
    if (signingUp) await signUp(email, password);
    await login(email, password);
    ui.password.value = "";
    await afterSignIn();
    // Sign-up mailed a link that confirms the address.
    if (signingUp) {
      showNotice(`Welcome! We sent a link to ${email}: open it to confirm your address.`);
    }
  } catch (error) {
    // Not report(): a 401 here is a wrong password, to be shown.
    showError(describe(error));
  } finally {
    ui.submit.disabled = false;
  }
}

/** `signedIn` opens the view a sign-in leads to (by default "Who's watching?"). */
export function initSignIn({ signedIn }: { signedIn?: () => Promise<void> } = {}): void {
  if (signedIn) afterSignIn = signedIn;
  ui.form.addEventListener("submit", (event) => void onSubmit(event));
  ui.switchMode.addEventListener("click", () => {
    setSignUpMode(!signUpMode);
    showError(null);
  });
}
