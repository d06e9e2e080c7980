// The geological-mapping results table (docs/geomap.md, "Results"): synthetic scenes per sensor and
// seed, each mapped by PCA, the canonical AE and the SAE (+ k-means, majority filter 3), with k chosen
// by the elbow over 2…8 and with k at the true unit count; accuracy against the scene's reference
// map after Hungarian matching, the cluster indices at the chosen k. Writes JSON, prints markdown.
//   nice -n 19 node --import tsx scripts/geomap-table.ts [--size 256] [--seeds 1,2,3] [--sensors sentinel2,aster]
//     [--units 5] [--epochs 15] [--optimizer sgd|adam] [--threads N] [--out bench/results/geomap-table.json]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { writeJsonAtomic } from '../bench/lib/report.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { geomap, sceneRaster, type GeomapMethod, type GeomapOptions, type GeomapResult } from '../src/geo/geomap.js';
import { makeScene, SENSOR_BANDS, type Sensor } from '../src/geo/scene.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    seeds: { type: 'string', default: '1,2,3' },
    sensors: { type: 'string', default: 'sentinel2,aster' },
    units: { type: 'string', default: '5' },
    epochs: { type: 'string' },
    optimizer: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string', default: 'bench/results/geomap-table.json' },
  },
});

function die(msg: string): never {
  console.error(`geomap-table: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) ? Number(s) : die(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`));
const sensors = values.sensors.split(',').map((s) => (s in SENSOR_BANDS ? (s as Sensor) : die(`unknown sensor ${JSON.stringify(s)} (sentinel2, aster)`)));
const seeds = values.seeds.split(',').map((s) => int('seeds', s));
const size = int('size', values.size), units = int('units', values.units);
const epochs = values.epochs !== undefined ? int('epochs', values.epochs) : undefined;
const optimizer = values.optimizer;
if (optimizer !== undefined && optimizer !== 'sgd' && optimizer !== 'adam') die(`--optimizer must be sgd or adam, got ${JSON.stringify(optimizer)}`);
const threads = values.threads !== undefined ? int('threads', values.threads) : os.availableParallelism();
// 'sae-paper' is the SAE exactly as the paper's code built it (ReLU output, SGD); 'sae' is the
// pipeline's default SAE (linear output, Adam): docs/geomap.md §7.
const VARIANTS: Record<string, { method: GeomapMethod; label: string; opts?: Partial<GeomapOptions> }> = {
  pca: { method: 'pca', label: 'PCA' },
  ae: { method: 'ae', label: 'AE' },
  sae: { method: 'sae', label: 'SAE' },
  'sae-paper': { method: 'sae', label: 'SAE (paper: ReLU output, SGD)', opts: { decoderOutput: 'relu', optimizer: 'sgd' } },
};
const METHODS = Object.keys(VARIANTS);

const engine = await createEngine({ backend: 'wasm', threads });
interface Row {
  sensor: Sensor; seed: number; method: string; chosenK: number;
  accuracyAuto: number; rawAccuracyAuto: number | null; accuracyTrueK: number; rawAccuracyTrueK: number | null;
  recallTrueK: number[]; silhouette: number | null; calinskiHarabasz: number | null; daviesBouldin: number | null;
  indices: GeomapResult['indices']; epochsRun: number | null; seconds: number;
}
const rows: Row[] = [];
const started = Date.now();
for (const sensor of sensors) {
  for (const seed of seeds) {
    const scene = makeScene({ sensor, seed, width: size, height: size, units });
    const raster = sceneRaster(scene);
    const reference = { labels: scene.reference, width: size, height: size, noData: null };
    for (const method of METHODS) {
      const t0 = performance.now();
      const v = VARIANTS[method]!;
      const base: GeomapOptions = {
        method: v.method, k: 'auto', kRange: [2, 8], majority: 3, seed, reference, ...v.opts,
        ...(v.method !== 'pca' && epochs !== undefined ? { epochs } : {}), ...(v.method !== 'pca' && optimizer ? { optimizer: optimizer as 'sgd' | 'adam' } : {}),
      };
      const auto = await geomap(engine, raster, base);
      // The true unit count with the same reduction: the trained autoencoder is reused, so only k differs.
      const { decoderOutput: _trained, ...again } = base;
      const trueK = await geomap(engine, raster, { ...again, k: units, indices: false, ...(auto.model ? { model: auto.model } : {}) });
      auto.model?.dispose();
      const at = auto.indices.find((r) => r.k === auto.k);
      const row: Row = {
        sensor, seed, method, chosenK: auto.k,
        accuracyAuto: auto.accuracy!.overall, rawAccuracyAuto: auto.rawAccuracy ?? null,
        accuracyTrueK: trueK.accuracy!.overall, rawAccuracyTrueK: trueK.rawAccuracy ?? null, recallTrueK: trueK.accuracy!.recall,
        silhouette: at?.silhouette ?? null, calinskiHarabasz: at?.calinskiHarabasz ?? null, daviesBouldin: at?.daviesBouldin ?? null,
        indices: auto.indices, epochsRun: auto.history?.length ?? null, seconds: (performance.now() - t0) / 1000,
      };
      rows.push(row);
      console.error(`${sensor}-${seed} ${method}: k ${row.chosenK}, accuracy ${(100 * row.accuracyAuto).toFixed(1)} % (auto), ${(100 * row.accuracyTrueK).toFixed(1)} % (k = ${units}) in ${row.seconds.toFixed(1)} s`);
    }
  }
}
engine.dispose();

const pct = (x: number) => (100 * x).toFixed(1);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const lines: string[] = [];
lines.push(`| Sensor | Scene | Method | Chosen k | Accuracy, elbow k (%) | Accuracy, k = ${units} (%) | Silhouette | Calinski–Harabasz | Davies–Bouldin |`);
lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows)
  lines.push(`| ${r.sensor} | seed ${r.seed} | ${VARIANTS[r.method]!.label} | ${r.chosenK} | ${pct(r.accuracyAuto)} | ${pct(r.accuracyTrueK)} | ${r.silhouette?.toFixed(3) ?? '–'} | ${r.calinskiHarabasz?.toFixed(0) ?? '–'} | ${r.daviesBouldin?.toFixed(3) ?? '–'} |`);
for (const sensor of sensors)
  for (const method of METHODS) {
    const g = rows.filter((r) => r.sensor === sensor && r.method === method);
    lines.push(`| ${sensor} | **mean** | ${VARIANTS[method]!.label} | ${g.map((r) => r.chosenK).join(', ')} | **${pct(mean(g.map((r) => r.accuracyAuto)))}** | **${pct(mean(g.map((r) => r.accuracyTrueK)))}** | ${mean(g.map((r) => r.silhouette ?? NaN)).toFixed(3)} | ${mean(g.map((r) => r.calinskiHarabasz ?? NaN)).toFixed(0)} | ${mean(g.map((r) => r.daviesBouldin ?? NaN)).toFixed(3)} |`);
  }
// Whether the SAE beat PCA, scene by scene, at the true k and at the elbow's k.
const scenes = rows.filter((r) => r.method === 'pca');
const beats = (variant: string, key: 'accuracyAuto' | 'accuracyTrueK') => scenes.filter((p) => rows.find((r) => r.method === variant && r.sensor === p.sensor && r.seed === p.seed)![key] > p[key]).length;
const verdict = ['sae', 'sae-paper'].map((v) => `${VARIANTS[v]!.label} vs PCA: higher accuracy on ${beats(v, 'accuracyTrueK')} of ${scenes.length} scenes at k = ${units}, on ${beats(v, 'accuracyAuto')} of ${scenes.length} at the elbow's k.`).join(' ');
console.log(lines.join('\n'));
console.log(`\n${verdict}`);

writeJsonAtomic(values.out, {
  date: new Date().toISOString(), cpu: os.cpus()[0]?.model.trim(), threads, loadAvg: os.loadavg(),
  settings: { size, units, seeds, sensors, kRange: [2, 8], majority: 3, epochs: epochs ?? 'pipeline default', optimizer: optimizer ?? 'pipeline default' },
  wallSeconds: Math.round((Date.now() - started) / 100) / 10, verdict, rows, markdown: lines.join('\n'),
});
console.error(`→ ${values.out}`);
process.exit(0);
