// The catalogue view: the titles the profile watching now may play, kept fresh while
// some still transcode.
import { listTitles } from "../api/client";
import type { Profile, Title } from "../api/types";
import { currentTitleId, hasPlayer, playTitle } from "../player/playback";
import { element, report, showView } from "../shell";
import { markSelected, renderTitleList } from "./titleList";

/** How often the catalogue is re-read while a title is still processing. */
const CATALOG_REFRESH_MS = 3000;

const ui = {
  titles: element("titles", HTMLElement),
  nowPlaying: element("now-playing", HTMLElement),
  whoami: element("whoami", HTMLElement),
};

// The profile watching now; null while signed out or not yet picked.
let profile: Profile | null = null;
// ?title=...: played once a profile is picked.
let deepLink: { titleId: string; autoplay: boolean } | null = null;
// Title names from the last catalogue read, for the account page's stream list.
const titleNames = new Map<string, string>();
let catalogTimer: number | null = null;

export function watchingProfile(): Profile | null {
  return profile;
}

export function setDeepLink(link: { titleId: string; autoplay: boolean }): void {
  deepLink = link;
}

export function titleName(id: string): string | undefined {
  return titleNames.get(id);
}

function cancelCatalogRefresh(): void {
  if (catalogTimer !== null) window.clearTimeout(catalogTimer);
  catalogTimer = null;
}

async function loadCatalog(): Promise<void> {
  cancelCatalogRefresh();
  const watching = profile;
  ui.titles.setAttribute("aria-busy", "true");
  try {
    const page = await listTitles();
    // Signed out or switched profile meanwhile: this list is not theirs.
    if (profile !== watching || profile === null) return;
    for (const item of page.items) titleNames.set(item.id, item.title);
    renderTitleList(ui.titles, page.items, (title: Title) =>
      // A click is a user gesture: play at once, with sound.
      void playTitle(title.id, true, title.title, false),
    );
    // Titles still transcoding turn playable by themselves: look again shortly.
    if (page.items.some((item) => item.status === "processing")) {
      catalogTimer = window.setTimeout(() => void loadCatalog(), CATALOG_REFRESH_MS);
    }
    const titleId = currentTitleId();
    if (titleId !== null) {
      markSelected(ui.titles, titleId);
      // A deep link only knows the id until the catalogue arrives.
      const title = page.items.find((item) => item.id === titleId);
      if (title) ui.nowPlaying.textContent = title.title;
    }
  } catch (error) {
    ui.titles.replaceChildren();
    report(error);
  } finally {
    ui.titles.removeAttribute("aria-busy");
  }
}

export async function enterCatalog(watching: Profile): Promise<void> {
  profile = watching;
  ui.whoami.textContent = `Watching as ${watching.name}`;
  ui.whoami.dataset["profileId"] = watching.id;
  showView("catalog");
  const catalog = loadCatalog();
  const link = deepLink;
  deepLink = null;
  if (link && hasPlayer()) await playTitle(link.titleId, link.autoplay);
  await catalog;
}

/** No profile watching any more (signed out, or off to pick another): the list goes. */
export function leaveCatalog(): void {
  profile = null;
  cancelCatalogRefresh();
  ui.titles.replaceChildren();
  ui.whoami.textContent = "";
  delete ui.whoami.dataset["profileId"];
}
