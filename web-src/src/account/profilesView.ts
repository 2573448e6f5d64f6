// "Who's watching?": the household's profiles, and the PIN form of a locked one.
import { ApiError, listProfiles, selectProfile } from "../api/client";
import type { Profile } from "../api/types";
import { enterCatalog, leaveCatalog } from "../catalog/catalogView";
import { stopPlaying } from "../player/playback";
import { element, report, showError, showView } from "../shell";
import { renderProfiles } from "./profilePicker";

const PIN_PATTERN = /^[0-9]{4}$/;

const ui = {
  profileList: element("profile-list", HTMLElement),
  pinForm: element("pin-form", HTMLFormElement),
  pin: element("pin", HTMLInputElement),
  pinProfile: element("pin-profile", HTMLElement),
  pinCancel: element("pin-cancel", HTMLButtonElement),
};

// The PIN-locked profile whose PIN the form asks for.
let pinFor: Profile | null = null;

export function closePinForm(): void {
  pinFor = null;
  ui.pin.value = "";
  ui.pinForm.hidden = true;
}

export async function showProfiles(known?: Profile[]): Promise<void> {
  leaveCatalog();
  // The next profile may not be allowed what this one was watching.
  await stopPlaying();
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

export function initProfiles(): void {
  ui.pinForm.addEventListener("submit", (event) => void onPinSubmit(event));
  ui.pinCancel.addEventListener("click", () => {
    closePinForm();
    showError(null);
  });
}
