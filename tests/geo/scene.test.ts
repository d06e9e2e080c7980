import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { readGeoTiff, writeLabelMap, writeRaster } from '../../src/geo/geotiff.js';
import { matchClusters } from '../../src/geo/hungarian.js';
import { kmeans } from '../../src/geo/kmeans.js';
import { fitPca, projectPca } from '../../src/geo/pca.js';
import { makeScene } from '../../src/geo/scene.js';

let engine: Engine, dir: string;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  dir = await mkdtemp(join(tmpdir(), 'inflow-scene-'));
});
afterAll(async () => { engine?.dispose(); await rm(dir, { recursive: true, force: true }); });

describe('makeScene', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = makeScene({ sensor: 'aster', seed: 4, width: 24, height: 20 });
    const b = makeScene({ sensor: 'aster', seed: 4, width: 24, height: 20 });
    const c = makeScene({ sensor: 'aster', seed: 5, width: 24, height: 20 });
    expect(a.bands).toBe(9);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.reference)).toEqual(Array.from(b.reference));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it('lays out every unit, mixes at contacts and leaves no-data holes', () => {
    const s = makeScene({ sensor: 'sentinel2', seed: 2, width: 64, height: 64, units: 5, holes: 3 });
    expect(s.bands).toBe(10);
    const counts = new Array(5).fill(0);
    s.reference.forEach((u) => counts[u]++);
    for (const c of counts) expect(c).toBeGreaterThan(0);
    const plane = 64 * 64;
    let holes = 0;
    for (let p = 0; p < plane; p++) {
      const zeros = Array.from({ length: 10 }, (_, b) => s.data[b * plane + p]!).filter((v) => v === 0).length;
      expect(zeros === 0 || zeros === 10).toBe(true); // a hole blanks every band
      if (zeros) holes++;
    }
    expect(holes).toBeGreaterThan(0);
    expect(holes).toBeLessThan(plane / 4);
    // Contacts exist: some pixels have a neighbour of another unit.
    let contacts = 0;
    for (let y = 0; y < 64; y++) for (let x = 1; x < 64; x++) if (s.reference[y * 64 + x] !== s.reference[y * 64 + x - 1]) contacts++;
    expect(contacts).toBeGreaterThan(10);
  });

  it('writes a GeoTIFF pair that reads back, and PCA + k-means maps it well above chance', async () => {
    const s = makeScene({ sensor: 'sentinel2', seed: 1, width: 64, height: 64, units: 4, holes: 2 });
    const img = join(dir, 's2.tif'), ref = join(dir, 's2-ref.tif');
    await writeRaster(img, s.data, 64, 64, s.geo, s.noData);
    await writeLabelMap(ref, s.reference, 64, 64, s.geo);
    const r = await readGeoTiff(img), m = await readGeoTiff(ref);
    expect([r.bands, r.noData, r.sampleType, r.geo.epsg, m.geo.epsg]).toEqual([10, 0, 'uint16', 32754, 32754]);
    expect(r.geo.origin).toEqual([560000, 6470000]);
    expect(r.geo.pixelSize).toEqual([10, -10]);
    expect(Array.from(r.data)).toEqual(Array.from(s.data));
    expect(Array.from(m.data)).toEqual(Array.from(s.reference));

    // Pixel-major rows of the valid pixels.
    const plane = 64 * 64, valid: number[] = [];
    for (let p = 0; p < plane; p++) if (r.data[p] !== r.noData) valid.push(p);
    const x = new Float32Array(valid.length * 10);
    valid.forEach((p, i) => { for (let b = 0; b < 10; b++) x[i * 10 + b] = r.data[b * plane + p]!; });
    const z = projectPca(fitPca(x, valid.length, 10), x, valid.length, 3);
    const km = await kmeans(engine, z, valid.length, 3, { k: 4, seed: 3, restarts: 3 });
    const acc = matchClusters(km.labels, valid.map((p) => s.reference[p]!), 4, 4).accuracy;
    expect(acc).toBeGreaterThan(0.5);
  });

  it('refuses bad options in one line', () => {
    expect(() => makeScene({ sensor: 'landsat' as 'aster' })).toThrow(/^scene: sensor must be 'sentinel2' or 'aster', got landsat$/);
    expect(() => makeScene({ sensor: 'aster', units: 1 })).toThrow(/^scene: units must be an integer in 2…12, got 1$/);
    expect(() => makeScene({ sensor: 'aster', noise: -1 })).toThrow(/^scene: noise must be in 0…0.2, got -1$/);
  });
});
