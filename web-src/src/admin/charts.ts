// The dashboard's two charts (uPlot): a metric over time, and a metric per value of a
// breakdown dimension (bars). Each chart follows its container's width.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const HEIGHT = 260;
const LINE = "#1a73e8";
const FILL = "rgba(26, 115, 232, 0.25)";
const bars = uPlot.paths.bars;
const AXIS = { stroke: "currentColor", grid: { stroke: "rgba(128, 128, 128, 0.2)" } };

function widthOf(container: HTMLElement): number {
  return Math.max(240, Math.floor(container.clientWidth));
}

/** A uPlot chart in `container` that resizes with it; `draw` replaces it on new data. */
class Chart {
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  constructor(private readonly container: HTMLElement) {
    this.observer = new ResizeObserver(() => {
      const width = widthOf(this.container);
      if (this.plot && width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    });
    this.observer.observe(container);
  }

  protected draw(options: Omit<uPlot.Options, "width" | "height">, data: uPlot.AlignedData): void {
    this.plot?.destroy();
    const size = { width: widthOf(this.container), height: HEIGHT };
    this.plot = new uPlot({ ...options, ...size }, data, this.container);
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

export class TimeSeriesChart extends Chart {
  /**
   * `times` in seconds since the epoch (UTC), one `values` entry per time; the x axis
   * spans the whole `range` asked for, not just the periods with views.
   */
  show(label: string, range: [number, number], times: number[], values: (number | null)[]): void {
    this.draw(
      {
        // Times are UTC: label them so, whatever the browser's zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: {
          x: { time: true, range: () => range },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        legend: { show: true },
        series: [
          { label: "Time (UTC)" },
          { label, stroke: LINE, fill: FILL, width: 2, points: { show: true, size: 8 } },
        ],
        axes: [AXIS, { ...AXIS, size: 60 }],
      },
      [times, values],
    );
  }
}

export class BarChart extends Chart {
  /** One bar per label, in the order given. */
  show(label: string, labels: string[], values: (number | null)[]): void {
    const xs = labels.map((_, i) => i);
    this.draw(
      {
        scales: {
          x: { time: false, range: () => [-0.5, Math.max(labels.length, 1) - 0.5] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        legend: { show: true },
        cursor: { points: { show: false } },
        series: [
          { label: "Value", value: (_u, v) => (v === null ? "" : (labels[v] ?? "")) },
          {
            label,
            stroke: LINE,
            fill: FILL,
            width: 1,
            ...(bars ? { paths: bars({ size: [0.6, 80], align: 0 }) } : {}),
            points: { show: false },
          },
        ],
        axes: [
          {
            ...AXIS,
            splits: () => xs,
            values: (_u, splits) => splits.map((i) => labels[i] ?? ""),
          },
          { ...AXIS, size: 60 },
        ],
      },
      [xs, values],
    );
  }
}
