import type { PlaybackStats, VideoPlayer } from "./player";

const AUTO = "auto";

function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1_000_000) return `${(bitsPerSecond / 1_000_000).toFixed(2)} Mbit/s`;
  return `${Math.round(bitsPerSecond / 1000)} kbit/s`;
}

/** Fills the quality <select> from the player's variants, keeping the user's choice. */
export function renderQualityOptions(select: HTMLSelectElement, player: VideoPlayer): void {
  const qualities = player.qualities();
  const previous = select.value;
  const options = [new Option("Auto", AUTO)];
  for (const quality of qualities) {
    const option = new Option(`${quality.height}p (${formatBitrate(quality.bandwidth)})`, String(quality.height));
    option.dataset["bandwidth"] = String(quality.bandwidth);
    options.push(option);
  }
  select.replaceChildren(...options);
  const stillThere = options.some((option) => option.value === previous);
  select.value = !player.isAbrEnabled() && stillThere ? previous : AUTO;
  select.disabled = qualities.length === 0;
}

/** Fills the audio <select>; hidden when the title has one audio track or none. */
export function renderAudioOptions(select: HTMLSelectElement, player: VideoPlayer): void {
  const choices = player.audioChoices();
  select.replaceChildren(
    ...choices.map((choice) => {
      const option = new Option(choice.label, choice.id, false, choice.active);
      option.lang = choice.language;
      option.dataset["language"] = choice.language;
      return option;
    }),
  );
  const label = select.closest("label");
  if (label) label.hidden = choices.length < 2;
  select.disabled = choices.length < 2;
}

/** Applies the quality <select>'s value: "auto" re-enables ABR, a height pins it. */
export function applyQualityChoice(select: HTMLSelectElement, player: VideoPlayer): void {
  player.selectQuality(select.value === AUTO ? null : Number(select.value));
}

/** Writes resolution and bandwidth to #stats, also as data-* for tests. */
export function renderStats(element: HTMLElement, stats: PlaybackStats | null): void {
  if (!stats || stats.height === 0) {
    element.textContent = "—";
    delete element.dataset["width"];
    delete element.dataset["height"];
    delete element.dataset["bandwidth"];
    return;
  }
  element.textContent =
    `${stats.width}×${stats.height} · ${formatBitrate(stats.streamBandwidth)}` +
    ` (estimate ${formatBitrate(stats.estimatedBandwidth)})`;
  element.dataset["width"] = String(stats.width);
  element.dataset["height"] = String(stats.height);
  element.dataset["bandwidth"] = String(stats.streamBandwidth);
}
