/**
 * SVG line plots of sweep results, rendered headless by Vega-Lite + Vega (no browser, no
 * canvas): a declarative spec, compiled to Vega, rendered to an SVG string.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface LinePlotOptions {
  /** Field on the x axis. */
  x: string;
  /** Field on the y axis. */
  y: string;
  /** Field whose values make separate lines (optional). */
  series?: string;
  /** Legend title (default: the series field). */
  seriesTitle?: string;
  title?: string;
  /** Log-scale y (latency over orders of magnitude). */
  logY?: boolean;
}

/**
 * Render rows as an SVG line plot.
 *
 * @example const svg = await linePlotSvg(rows, { x: 'thx', y: 'latencyUs', series: 'clockMHz' });
 */
export async function linePlotSvg(rows: Array<Record<string, unknown>>, o: LinePlotOptions): Promise<string> {
  const spec: TopLevelSpec = {
    width: 480,
    height: 300,
    ...(o.title ? { title: o.title } : {}),
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.x },
      y: { field: o.y, type: 'quantitative', title: o.y, ...(o.logY ? { scale: { type: 'log' } } : {}) },
      ...(o.series ? { color: { field: o.series, type: 'nominal', title: o.seriesTitle ?? o.series } } : {}),
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
