import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { elbowK } from '../../src/geo/cluster-indices.js';
import { geomap, sceneRaster } from '../../src/geo/geomap.js';
import { LABEL_NODATA, type Raster } from '../../src/geo/geotiff.js';
import { PixelAutoencoder, pixelAutoencoderPreset } from '../../src/geo/pixel-autoencoder.js';
import { makeScene, type Scene } from '../../src/geo/scene.js';

let engine: Engine, scene: Scene, raster: Raster;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  scene = makeScene({ sensor: 'sentinel2', seed: 2, width: 40, height: 40, units: 4, holes: 1 });
  raster = sceneRaster(scene);
});
afterAll(() => engine?.dispose());

const reference = () => ({ labels: scene.reference, width: scene.width, height: scene.height, noData: null });

describe('geomap', () => {
  it('maps a scene with PCA: no-data kept, the filter applied, scored against the reference', async () => {
    const r = await geomap(engine, raster, { method: 'pca', k: 4, seed: 1, reference: reference() });
    const plane = scene.width * scene.height;
    expect(r.labels.length).toBe(plane);
    for (let p = 0; p < plane; p++) {
      const hole = scene.data[p] === 0;
      expect(r.rawLabels[p] === LABEL_NODATA).toBe(hole);
      expect(r.labels[p] === LABEL_NODATA).toBe(hole);
    }
    expect(r.k).toBe(4);
    expect(r.indices).toEqual([]);
    expect(r.codeDim).toBe(5);
    expect(r.accuracy!.overall).toBeGreaterThan(0.6);
    expect(r.accuracy!.confusion.length).toBe(4);
    expect([...r.accuracy!.mapping].sort()).toEqual([0, 1, 2, 3]);
    // The 3 × 3 filter changed something, and majority 0 leaves the raw map.
    expect(Array.from(r.labels)).not.toEqual(Array.from(r.rawLabels));
    const off = await geomap(engine, raster, { method: 'pca', k: 4, seed: 1, majority: 0 });
    expect(Array.from(off.labels)).toEqual(Array.from(off.rawLabels));
    expect(Array.from(off.rawLabels)).toEqual(Array.from(r.rawLabels));
  });

  it("picks k by the elbow of the WCSS with k = 'auto' and reports the indices for every k", async () => {
    const stages = new Set<string>();
    const r = await geomap(engine, raster, { method: 'pca', k: 'auto', kRange: [2, 6], codeDim: 3, restarts: 2, indexSample: 300, onProgress: (e) => stages.add(e.stage) });
    expect(r.indices.map((row) => row.k)).toEqual([2, 3, 4, 5, 6]);
    expect(r.k).toBe(elbowK(r.indices.map((row) => row.k), r.indices.map((row) => row.wcss)));
    for (const row of r.indices) {
      expect(row.silhouette).toBeGreaterThan(-1);
      expect(row.silhouette).toBeLessThanOrEqual(1);
      expect(row.calinskiHarabasz).toBeGreaterThan(0);
      expect(row.daviesBouldin).toBeGreaterThan(0);
    }
    expect(Math.max(...r.rawLabels.filter((l) => l !== LABEL_NODATA))).toBe(r.k - 1);
    expect([...stages].sort()).toEqual(['cluster', 'indices']);
  });

  it('trains an SAE, then maps with it again without training', async () => {
    const stages = new Set<string>();
    const r = await geomap(engine, raster, { method: 'sae', k: 4, epochs: 2, batchSize: 64, seed: 3, indices: true, kRange: [3, 5], onProgress: (e) => stages.add(e.stage) });
    expect(r.model).toBeInstanceOf(PixelAutoencoder);
    expect(r.model!.bands).toBe(10);
    expect(r.model!.codeDim).toBe(5);
    // The SAE's default output layer is linear (docs/geomap.md §7); the hidden activations are the paper's.
    expect(r.model!.config.decoder.at(-1)!.activation).toBe('linear');
    expect(r.model!.config.encoder.map((l) => l.activation)).toEqual(['relu', 'linear', 'linear', 'linear', 'linear', 'selu']);
    expect(r.history!.length).toBe(2);
    expect(r.indices.map((row) => row.k)).toEqual([3, 4, 5]);
    expect(r.k).toBe(4);
    expect([...stages].sort()).toEqual(['cluster', 'encode', 'indices', 'train']);
    const again = await geomap(engine, raster, { method: 'sae', k: 4, seed: 3, model: r.model });
    expect(again.history).toBeUndefined();
    expect(Array.from(again.rawLabels)).toEqual(Array.from(r.rawLabels));
    r.model!.dispose();
  });

  it('maps a band selection', async () => {
    const r = await geomap(engine, raster, { method: 'pca', k: 3, bands: [0, 2, 4, 8], seed: 1 });
    expect(r.codeDim).toBe(3);
    expect(r.k).toBe(3);
  });

  it('refuses bad input in one line each', async () => {
    const one: Raster = { ...raster, bands: 1, data: raster.data.subarray(0, 1600) };
    const cases: Array<[Parameters<typeof geomap>[2], RegExp, Raster?]> = [
      [{ method: 'pca', k: 3 }, /^geomap: the raster has 1 band: mapping needs at least 2$/, one],
      [{ method: 'pca', k: 3, bands: [0, 10] }, /^geomap: band index 10 is out of range: the raster has bands 0…9$/],
      [{ method: 'pca', k: 1 }, /^geomap: k must be an integer from 2 to 8, got 1$/],
      [{ method: 'pca', k: 9 }, /^geomap: k must be an integer from 2 to 8, got 9$/],
      [{ method: 'pca', k: 2.5 }, /^geomap: k must be an integer from 2 to 8, got 2\.5$/],
      [{ method: 'kpca' as never, k: 3 }, /^geomap: unknown method 'kpca' \(pca, ae, sae\)$/],
      [{ method: 'sae', k: 3, model: new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', 9)) }, /^geomap: the model was trained on 9 bands but the raster has 10/],
      [{ method: 'ae', k: 3, bands: [0, 1, 2], model: new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', 10)) }, /^geomap: the model was trained on 10 bands but the 3 selected bands has 3/],
      [{ method: 'pca', k: 3, reference: { labels: new Uint8Array(20 * 40), width: 20, height: 40, noData: null } }, /^geomap: the reference map is 20 × 40 but the raster is 40 × 40$/],
      [{ method: 'pca', k: 3, majority: 4 as never }, /^geomap: majority must be 0 \(off\), 3 or 5, got 4$/],
      [{ method: 'pca', k: 3, codeDim: 10 }, /^geomap: codeDim must be an integer from 1 to 9/],
      [{ method: 'pca', k: 'auto', kRange: [2, 3] }, /needs a kRange of at least 3 values/],
      [{ method: 'pca', k: 3, decoderOutput: 'linear' }, /^geomap: decoderOutput applies only to an AE\/SAE that geomap trains/],
    ];
    for (const [opts, msg, r] of cases) await expect(geomap(engine, r ?? raster, opts)).rejects.toThrow(msg);
  });
});
