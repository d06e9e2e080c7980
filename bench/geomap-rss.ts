// Child process of the `geomap` bench (bench/geomap.ts): maps one large scene with the whole pipeline
// and prints one JSON line with its timings and the process's peak resident memory, so the peak is
// this job's alone. The scene is a synthetic tile repeated (with a per-tile brightness change) up to
// the asked pixel count, since generating 10⁷ distinct pixels would cost minutes of mixing.
//   node --import tsx bench/geomap-rss.ts <pixels> <method> <threads>
import { createEngine } from '../src/engine/dispatcher.js';
import { geomap, sceneRaster, type GeomapMethod } from '../src/geo/geomap.js';
import { makeScene } from '../src/geo/scene.js';

const pixels = Number(process.argv[2] ?? 1e7), method = (process.argv[3] ?? 'sae') as GeomapMethod, threads = Number(process.argv[4] ?? 1);
const side = Math.ceil(Math.sqrt(pixels)), TILE = 256;
const t0 = performance.now();
const tile = sceneRaster(makeScene({ sensor: 'sentinel2', width: TILE, height: TILE, seed: 1 }));
const bands = tile.bands, plane = side * side;
const data = new Float32Array(plane * bands);
for (let b = 0; b < bands; b++)
  for (let y = 0; y < side; y++) {
    const ty = Math.floor(y / TILE);
    for (let x = 0; x < side; x++) {
      const v = tile.data[(b * TILE + (y % TILE)) * TILE + (x % TILE)]!;
      // No-data stays 0; other tiles are made a little brighter or darker, like illumination across a scene.
      data[b * plane + y * side + x] = v === 0 ? 0 : Math.round(v * (1 + 0.03 * (((Math.floor(x / TILE) + 3 * ty) % 5) - 2)));
    }
  }
const raster = { ...tile, width: side, height: side, data };
const made = (performance.now() - t0) / 1000;
const engine = await createEngine({ backend: 'wasm', threads });
const t1 = performance.now();
const res = await geomap(engine, raster, { method, k: 5, indices: false, majority: 3, restarts: 1, seed: 1, ...(method === 'pca' ? {} : { epochs: 1 }) });
const seconds = (performance.now() - t1) / 1000;
res.model?.dispose();
engine.dispose();
let mapped = 0;
for (const l of res.labels) if (l !== 255) mapped++;
// maxRSS is in KiB: the largest resident set this process ever had.
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ pixels: plane, side, bands, method, threads, mapped, k: res.k, sceneSeconds: made, seconds, stages: res.seconds, peakRssMiB }));
process.exit(0);
