import type { Profile } from "../api/types";

/** Renders "Who's watching?": one button per profile into `container`. */
export function renderProfiles(
  container: HTMLElement,
  profiles: readonly Profile[],
  onSelect: (profile: Profile) => void,
): void {
  container.replaceChildren();
  if (profiles.length === 0) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "This account has no profiles.";
    container.append(empty);
    return;
  }
  const list = document.createElement("ul");
  list.className = "profile-list";
  for (const profile of profiles) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "profile";
    button.dataset["profileId"] = profile.id;
    button.dataset["kids"] = String(profile.kids);
    button.dataset["hasPin"] = String(profile.has_pin);
    const avatar = document.createElement("span");
    avatar.className = "profile-avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = profile.name.slice(0, 1).toUpperCase();
    const name = document.createElement("span");
    name.className = "profile-name";
    name.textContent = profile.name;
    button.append(avatar, name);
    const notes = [profile.kids ? "Kids" : null, profile.has_pin ? "PIN" : null].filter(
      (note): note is string => note !== null,
    );
    if (notes.length > 0) {
      const badge = document.createElement("span");
      badge.className = "profile-notes";
      badge.textContent = notes.join(" · ");
      button.append(badge);
    }
    button.addEventListener("click", () => onSelect(profile));
    item.append(button);
    list.append(item);
  }
  container.append(list);
}
