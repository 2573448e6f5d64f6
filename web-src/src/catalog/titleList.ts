import type { Title } from "../api/types";

/** Renders the catalogue as one button per title into `container`. */
export function renderTitleList(
  container: HTMLElement,
  titles: readonly Title[],
  onSelect: (title: Title) => void,
): void {
  container.replaceChildren();
  if (titles.length === 0) {
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = "No titles yet.";
    container.append(empty);
    return;
  }
  const list = document.createElement("ul");
  list.className = "title-list";
  for (const title of titles) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "title";
    button.dataset["titleId"] = title.id;
    button.dataset["status"] = title.status;
    if (title.poster_url) {
      const poster = document.createElement("img");
      poster.src = title.poster_url;
      poster.alt = "";
      poster.loading = "lazy";
      button.append(poster);
    }
    const name = document.createElement("span");
    name.className = "title-name";
    name.textContent = title.title;
    const status = document.createElement("span");
    status.className = "title-status";
    status.textContent = title.status;
    button.append(name, status);
    if (title.description) button.title = title.description;
    button.addEventListener("click", () => onSelect(title));
    item.append(button);
    list.append(item);
  }
  container.append(list);
}

/** Marks the selected title's button for assistive technology and styling. */
export function markSelected(container: HTMLElement, titleId: string): void {
  for (const button of container.querySelectorAll<HTMLButtonElement>("button[data-title-id]")) {
    button.setAttribute("aria-pressed", String(button.dataset["titleId"] === titleId));
  }
}
