// The analytics dashboard (staff only): the summary figures of a date range and title,
// a metric over time, a metric per device/player/CDN/country/rendition, the concurrent
// viewers (refreshed every few seconds), and CSV exports of what the charts show.
import {
  ApiError,
  type AnalyticsQuery,
  getAnalyticsBreakdown,
  getAnalyticsConcurrency,
  getAnalyticsSummary,
  getAnalyticsTimeSeries,
} from "../api/client";
import type { BreakdownOut, Dimension, Granularity, SummaryOut, TimeSeriesOut } from "../api/types";
import { element, harness, report, showError, showView } from "../shell";
import "./analytics.css";
import { BarChart, TimeSeriesChart } from "./charts";
import {
  CHART_METRICS,
  type ChartMetric,
  download,
  formatBitrate,
  formatCount,
  formatDuration,
  formatMs,
  formatPercent,
  toCsv,
} from "./metrics";

// How often the concurrent viewers are asked for while the dashboard shows.
const LIVE_REFRESH_MS = 5000;
const DEFAULT_DAYS = 7;
const DIMENSION_NAMES: Record<Dimension, string> = {
  device: "Device",
  player: "Player",
  cdn: "CDN",
  country: "Country",
  rendition: "Rendition",
};
const DIMENSIONS = Object.keys(DIMENSION_NAMES) as Dimension[];

const ui = {
  denied: element("analytics-denied", HTMLElement),
  body: element("analytics-body", HTMLElement),
  filters: element("analytics-filters", HTMLFormElement),
  title: element("analytics-title", HTMLInputElement),
  from: element("analytics-from", HTMLInputElement),
  to: element("analytics-to", HTMLInputElement),
  now: element("analytics-now", HTMLElement),
  peak: element("analytics-peak", HTMLElement),
  peakAt: element("analytics-peak-at", HTMLElement),
  summary: element("analytics-summary", HTMLElement),
  metric: element("analytics-metric", HTMLSelectElement),
  granularity: element("analytics-granularity", HTMLSelectElement),
  dimension: element("analytics-dimension", HTMLSelectElement),
  seriesChart: element("analytics-series-chart", HTMLElement),
  seriesEmpty: element("analytics-series-empty", HTMLElement),
  seriesCsv: element("analytics-series-csv", HTMLButtonElement),
  breakdownChart: element("analytics-breakdown-chart", HTMLElement),
  breakdownEmpty: element("analytics-breakdown-empty", HTMLElement),
  breakdownTable: element("analytics-breakdown-table", HTMLTableElement),
  breakdownCsv: element("analytics-breakdown-csv", HTMLButtonElement),
};

const seriesChart = new TimeSeriesChart(ui.seriesChart);
const breakdownChart = new BarChart(ui.breakdownChart);

// What the page shows now (the CSV exports are of these).
let series: TimeSeriesOut | null = null;
let breakdown: BreakdownOut | null = null;
let liveTimer: number | null = null;

// --- the filters -----------------------------------------------------------------------

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The range of whole UTC days the date inputs name (`to` included), and the title. */
function currentQuery(): AnalyticsQuery | null {
  const from = ui.from.value;
  const to = ui.to.value;
  if (!from || !to) return null;
  const end = new Date(`${to}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() + 1);
  const start = new Date(`${from}T00:00:00Z`);
  if (!(start < end)) return null;
  const titleId = ui.title.value.trim();
  return { from: start.toISOString(), to: end.toISOString(), titleId: titleId || null };
}

function granularity(): Granularity {
  return ui.granularity.value === "day" ? "day" : "hour";
}

function dimension(): Dimension {
  return DIMENSIONS.find((d) => d === ui.dimension.value) ?? "device";
}

function chartMetric(): ChartMetric {
  return CHART_METRICS.find((m) => m.key === ui.metric.value) ?? CHART_METRICS[0]!;
}

// --- rendering -------------------------------------------------------------------------

function renderSummary(out: SummaryOut): void {
  const figures: [string, string, string][] = [
    ["views", "Views", formatCount(out.views)],
    ["unique_viewers", "Unique viewers", formatCount(out.unique_viewers)],
    ["watch_time_ms", "Watch time", formatDuration(out.watch_time_ms)],
    ["startup_time_p50_ms", "Startup p50", formatMs(out.startup_time_p50_ms)],
    ["startup_time_p95_ms", "Startup p95", formatMs(out.startup_time_p95_ms)],
    ["rebuffer_percentage", "Rebuffering", formatPercent(out.rebuffer_percentage)],
    [
      "playback_failure_percentage",
      "Playback failures",
      formatPercent(out.playback_failure_percentage),
    ],
    [
      "exits_before_start_percentage",
      "Exits before start",
      formatPercent(out.exits_before_start_percentage),
    ],
    ["completion_percentage", "Completion", formatPercent(out.completion_percentage)],
    ["average_bitrate_bps", "Average bitrate", formatBitrate(out.average_bitrate_bps)],
  ];
  const items = figures.map(([key, label, value]) => {
    const item = document.createElement("div");
    item.dataset["metric"] = key;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    item.append(dt, dd);
    return item;
  });
  ui.summary.replaceChildren(...items);
}

function renderSeries(): void {
  const points = series?.points ?? [];
  ui.seriesEmpty.hidden = points.length > 0;
  ui.seriesCsv.disabled = points.length === 0;
  if (points.length === 0) {
    seriesChart.clear();
    return;
  }
  const metric = chartMetric();
  const from = Date.parse(series?.from ?? "") / 1000;
  const to = Date.parse(series?.to ?? "") / 1000;
  seriesChart.show(
    metric.label,
    [from, to],
    points.map((p) => Date.parse(p.time) / 1000),
    points.map((p) => metric.plot(p[metric.key])),
  );
}

function label(value: string): string {
  if (value === "") return "(unknown)";
  return dimension() === "rendition" ? `${value}p` : value;
}

function renderBreakdown(): void {
  const rows = breakdown?.rows ?? [];
  ui.breakdownEmpty.hidden = rows.length > 0;
  ui.breakdownCsv.disabled = rows.length === 0;
  const metric = chartMetric();
  if (rows.length === 0) breakdownChart.clear();
  else
    breakdownChart.show(
      metric.label,
      rows.map((r) => label(r.value)),
      rows.map((r) => metric.plot(r[metric.key])),
    );

  // The chart's metric as a fourth column, unless it is one of the first three.
  const extra = metric.key !== "views" && metric.key !== "watch_time_ms";
  const columns = [DIMENSION_NAMES[breakdown?.dimension ?? dimension()], "Views", "Watch time"];
  const head = document.createElement("tr");
  for (const text of extra ? [...columns, metric.label] : columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const body = rows.map((r) => {
    const tr = document.createElement("tr");
    const cells = [
      label(r.value),
      formatCount(r.views),
      formatDuration(r.watch_time_ms),
      ...(extra ? [metric.format(r[metric.key])] : []),
    ];
    for (const [i, text] of cells.entries()) {
      const cell = document.createElement(i === 0 ? "th" : "td");
      if (cell instanceof HTMLTableCellElement && i === 0) cell.scope = "row";
      cell.textContent = text;
      tr.append(cell);
    }
    return tr;
  });
  ui.breakdownTable.replaceChildren(head, ...body);
  ui.breakdownTable.hidden = rows.length === 0;
}

function renderConcurrency(now: number, peak: number, peakAt: string | null): void {
  ui.now.textContent = formatCount(now);
  ui.peak.textContent = formatCount(peak);
  ui.peakAt.textContent = peakAt ? `at ${peakAt.slice(0, 16).replace("T", " ")} UTC` : "";
}

// --- loading ---------------------------------------------------------------------------

/** A 403 (a viewer or support agent): say so instead of the figures. */
function handle(error: unknown): void {
  if (error instanceof ApiError && error.status === 403) {
    ui.denied.hidden = false;
    ui.body.hidden = true;
    stopLive();
    return;
  }
  report(error);
}

async function loadSeries(query: AnalyticsQuery): Promise<void> {
  series = await getAnalyticsTimeSeries(query, granularity());
  renderSeries();
}

async function loadBreakdown(query: AnalyticsQuery): Promise<void> {
  breakdown = await getAnalyticsBreakdown(query, dimension());
  renderBreakdown();
}

async function loadLive(query: AnalyticsQuery): Promise<void> {
  const out = await getAnalyticsConcurrency(query);
  renderConcurrency(out.now, out.peak, out.peak_at);
}

async function reload(): Promise<void> {
  const query = currentQuery();
  if (!query) {
    showError("Choose a date range whose start is not after its end.");
    return;
  }
  showError(null);
  ui.summary.setAttribute("aria-busy", "true");
  try {
    const summary = getAnalyticsSummary(query).then(renderSummary);
    await Promise.all([summary, loadSeries(query), loadBreakdown(query), loadLive(query)]);
    ui.denied.hidden = true;
    ui.body.hidden = false;
  } catch (error) {
    handle(error);
  } finally {
    ui.summary.removeAttribute("aria-busy");
  }
}

function stopLive(): void {
  if (liveTimer !== null) window.clearInterval(liveTimer);
  liveTimer = null;
}

function startLive(): void {
  stopLive();
  liveTimer = window.setInterval(() => {
    // Left the dashboard: stop asking.
    if (harness.view !== "analytics") {
      stopLive();
      return;
    }
    const query = currentQuery();
    if (query) loadLive(query).catch(handle);
  }, LIVE_REFRESH_MS);
}

function run(task: (query: AnalyticsQuery) => Promise<void>): void {
  const query = currentQuery();
  if (query) task(query).catch(handle);
}

// --- wiring ----------------------------------------------------------------------------

export function initAnalytics(): void {
  for (const metric of CHART_METRICS) ui.metric.append(new Option(metric.label, metric.key));
  const today = new Date();
  const weekAgo = new Date(today);
  weekAgo.setUTCDate(weekAgo.getUTCDate() - (DEFAULT_DAYS - 1));
  ui.from.value = isoDay(weekAgo);
  ui.to.value = isoDay(today);

  ui.filters.addEventListener("submit", (event) => {
    event.preventDefault();
    void reload();
  });
  ui.granularity.addEventListener("change", () => run(loadSeries));
  ui.dimension.addEventListener("change", () => run(loadBreakdown));
  ui.metric.addEventListener("change", () => {
    renderSeries();
    renderBreakdown();
  });
  ui.seriesCsv.addEventListener("click", () => {
    if (!series) return;
    const rows = series.points.map((p) => ({ key: p.time, metrics: p }));
    download(`analytics-timeseries-${series.granularity}.csv`, toCsv("time", rows));
  });
  ui.breakdownCsv.addEventListener("click", () => {
    if (!breakdown) return;
    const rows = breakdown.rows.map((r) => ({ key: r.value, metrics: r }));
    download(`analytics-by-${breakdown.dimension}.csv`, toCsv(breakdown.dimension, rows));
  });
}

export async function showAnalytics(): Promise<void> {
  showView("analytics");
  ui.denied.hidden = true;
  await reload();
  if (ui.denied.hidden) startLive();
}
