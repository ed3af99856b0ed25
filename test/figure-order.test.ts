// A figure depends only on its own event: drawing it after other events (as a plot worker or the
// report does, one template reused for many figures) gives the same bytes as drawing it first on a
// template of its own.
import { describe, expect, it } from "vitest";
import { SCONE_DEFAULTS } from "../src/datasets/scone.ts";
import { heatmap, NT, NW, Rng } from "../src/generate.ts";
import { Histogram, linearEdges } from "../src/report/accumulators.ts";
import { clusterFigureData, clusterSpec, clusterTemplate, type ClusterEvent } from "../src/report/figures/clusters.ts";
import { type SconeEvent, sconeFigureData, sconeSpec, sconeTemplate } from "../src/report/figures/scone.ts";
import { histogramData, histogramSpec, histogramTemplate } from "../src/report/figures/stats.ts";
import { renderEvent } from "../src/report/plot-task.ts";
import { FigureTemplate } from "../src/report/render.ts";

function sconeEvent(seed: number, scale: number, id: string): SconeEvent {
  const rng = new Rng(seed);
  const img = new Float64Array(NW * NT * 2);
  heatmap(rng, seed % 2, img);
  const flux = new Float32Array(NW * NT), err = new Float32Array(NW * NT);
  for (let i = 0; i < NW * NT; i++) { flux[i] = scale * img[2 * i]; err[i] = scale * img[2 * i + 1]; }
  return {
    id, label: seed % 2, z: 0.1 * seed, zErr: 0.01, source: "x.tfrecord", record: seed, bins: [NW, NT],
    timeRange: SCONE_DEFAULTS.timeRange, wavelengthRange: SCONE_DEFAULTS.wavelengthRange, flux, err,
  };
}

/** Where two SVG texts first differ, with some context (empty when they are equal). */
function firstDifference(a: string, b: string): string {
  if (a === b) return "";
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: ${JSON.stringify(a.slice(Math.max(0, i - 80), i + 80))} vs ${JSON.stringify(b.slice(Math.max(0, i - 80), i + 80))}`;
}

/** Each figure drawn alone (a new template) and then in three orders on one shared template: all equal. */
async function checkOrders(fresh: () => FigureTemplate, shared: FigureTemplate, figs: Parameters<FigureTemplate["svg"]>[0][]): Promise<string[]> {
  const alone: string[] = [];
  for (const f of figs) alone.push(await fresh().svg(f));
  const bad: string[] = [];
  const n = figs.length;
  for (const order of [[...Array(n).keys()], [...Array(n).keys()].reverse(), [...Array(n).keys()].map((i) => (i * 3 + 1) % n)]) {
    for (const i of order) {
      const d = firstDifference(await shared.svg(figs[i]), alone[i]);
      if (d) bad.push(`figure ${i} after ${order.slice(0, order.indexOf(i)).join(",") || "none"}: ${d}`);
    }
  }
  return bad;
}

describe("figures are independent of the figures drawn before them", () => {
  // other events than the first: much larger, much smaller and negative values (wider and narrower
  // axis labels), long and short SNIDs
  const events = [sconeEvent(1, 1, "1001"), sconeEvent(2, 3e5, "123456789012345"), sconeEvent(3, 1e-4, "7"),
    sconeEvent(4, -2e3, "42"), sconeEvent(5, 37, "5"), sconeEvent(6, 0.02, "600006")];

  for (const size of [1, 0.55]) {
    it(`SCONE at size ${size}: the same SVG alone and after any other events`, async () => {
      const spec = sconeSpec(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.wavelengthRange, size);
      const bad = await checkOrders(() => new FigureTemplate(spec), new FigureTemplate(spec), events.map(sconeFigureData));
      expect(bad.slice(0, 3)).toEqual([]);
    });
  }

  it("plot: the same PNG bytes whichever events a worker drew before", async () => {
    const spec = sconeSpec(SCONE_DEFAULTS.timeRange, SCONE_DEFAULTS.wavelengthRange);
    const alone: Buffer[] = [];
    for (const e of events) alone.push(await new FigureTemplate(spec).render(sconeFigureData(e), "png"));
    const bad: string[] = [];
    for (const order of [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]]) {
      for (const i of order) if (!(await renderEvent(events[i], "png")).equals(alone[i])) bad.push(`${i} in ${order}`);
    }
    expect(bad).toEqual([]);
    // plot draws them all from one template
    expect(sconeTemplate(events[2])).toBe(sconeTemplate(events[0]));
  });

  it("clusters and histograms: the same SVG alone and after any others", async () => {
    const ev = (seed: number, scale: number): ClusterEvent => {
      const rng = new Rng(seed);
      return {
        source: "c.npz", row: seed, height: 128, width: 16, plane: "U", interaction: seed % 2 ? "ES" : "CC",
        image: Float32Array.from({ length: 128 * 16 }, () => (rng.random() < 0.2 ? Math.round(scale * rng.random()) : 0)),
        isMarley: false, isMainTrack: true, nuEnergy: 10 * seed, particleEnergy: 3 * seed,
        metrics: { pixel_sum: 1000 * scale, pixel_max: scale, nonzero_pixels: 400, time_first: 0, time_last: 127, channel_first: 0, channel_last: 15 },
      };
    };
    const clusters = [ev(1, 50), ev(2, 1e6), ev(3, 3), ev(4, 12345)];
    const spec = clusterSpec(128, 16);
    expect(await checkOrders(() => new FigureTemplate(spec), clusterTemplate(clusters[0]), clusters.map(clusterFigureData))).toEqual([]);
    const hist = (scale: number, seed: number) => {
      const h = new Histogram(linearEdges(-scale, scale, 20));
      const rng = new Rng(seed);
      for (let i = 0; i < 1000 * seed; i++) h.add(scale * (rng.random() * 2 - 1) ** 3);
      return histogramData(`metric_${seed}`, h.toJSON());
    };
    const hs = [hist(1, 1), hist(1e6, 2), hist(1e-3, 3), hist(50, 4)];
    expect(await checkOrders(() => new FigureTemplate(histogramSpec()), histogramTemplate(), hs)).toEqual([]);
  });
});
