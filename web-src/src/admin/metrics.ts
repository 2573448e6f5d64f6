// The QoE metrics the analytics API reports (Mux Data definitions), how the dashboard
// labels and formats them, and the CSV of a breakdown or a time series.
import type { BreakdownOut } from "../api/types";

/** Every metric of a summary, a breakdown row and a time series point. */
export type Metrics = Omit<BreakdownOut["rows"][number], "value">;
export type MetricKey = keyof Metrics;

/** The CSV's metric columns, in the API's order. */
export const METRIC_KEYS: readonly MetricKey[] = [
  "views",
  "watch_time_ms",
  "playing_time_ms",
  "completion_percentage",
  "startup_time_p50_ms",
  "startup_time_p95_ms",
  "startup_time_mean_ms",
  "rebuffer_percentage",
  "rebuffer_frequency_per_min",
  "exits_before_start_percentage",
  "playback_failure_percentage",
  "startup_failure_percentage",
  "average_bitrate_bps",
  "upscale_percentage",
  "startup_score",
  "smoothness_score",
  "quality_score",
];

const NONE = "—";

export function formatCount(value: number | null): string {
  return value === null ? NONE : value.toLocaleString("en");
}

export function formatPercent(value: number | null): string {
  return value === null ? NONE : `${value.toFixed(value < 10 ? 2 : 1)} %`;
}

export function formatMs(value: number | null): string {
  if (value === null) return NONE;
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

/** A watch time: "42 s", "12 min 05 s", "3 h 07 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return NONE;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`;
}

export function formatBitrate(bps: number | null): string {
  if (bps === null) return NONE;
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bps / 1e3)} kbit/s`;
}

/** A metric the charts can plot: its label, its value on the chart's axis, its text. */
export interface ChartMetric {
  key: MetricKey;
  label: string;
  plot: (value: number | null) => number | null;
  format: (value: number | null) => string;
}

const same = (value: number | null): number | null => value;

export const CHART_METRICS: readonly ChartMetric[] = [
  { key: "views", label: "Views", plot: same, format: formatCount },
  {
    key: "watch_time_ms",
    label: "Watch time (min)",
    plot: (v) => (v === null ? null : v / 60_000),
    format: formatDuration,
  },
  { key: "startup_time_p50_ms", label: "Startup time p50 (ms)", plot: same, format: formatMs },
  { key: "startup_time_p95_ms", label: "Startup time p95 (ms)", plot: same, format: formatMs },
  { key: "rebuffer_percentage", label: "Rebuffering (%)", plot: same, format: formatPercent },
  {
    key: "playback_failure_percentage",
    label: "Playback failures (%)",
    plot: same,
    format: formatPercent,
  },
  {
    key: "exits_before_start_percentage",
    label: "Exits before start (%)",
    plot: same,
    format: formatPercent,
  },
  {
    key: "average_bitrate_bps",
    label: "Average bitrate (kbit/s)",
    plot: (v) => (v === null ? null : v / 1000),
    format: formatBitrate,
  },
];

function csvCell(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV (RFC 4180, CRLF lines): `first` names the first column, then every metric. */
export function toCsv(first: string, rows: { key: string; metrics: Metrics }[]): string {
  const lines = [[first, ...METRIC_KEYS].map(csvCell).join(",")];
  for (const row of rows) {
    lines.push([row.key, ...METRIC_KEYS.map((k) => row.metrics[k])].map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** Saves `text` as a file through the browser's download. */
export function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
