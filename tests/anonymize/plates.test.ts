// Licence plates in anonymize() (docs/anonymize.md §10, docs/plates.md §10): held-out synthetic
// plate scenes pasted into a larger image are found by the bundled plate detector (whole photo and
// tiles), masked and filled like faces; every byte outside the mask stays; the report lists kinds.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymize, type FillMode } from '../../src/anonymize/anonymize.js';
import { anonymize as anonymizeNode } from '../../src/anonymize/anonymize-node.js';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadClassifier } from '../../src/io/classifier-file.js';
import { iou } from '../../src/models/detect/box.js';
import type { RgbImage } from '../../src/models/detect/image.js';
import type { DigitClassifier } from '../../src/models/classifier.js';
import { detectPlatesTiled, plateTileLevels } from '../../src/models/plates/detect-plates-tiled.js';
import { bytesToBatch, pasteScenes, type PastedScenes } from '../../src/models/plates/pasted-scenes.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../../src/models/plates/plate-file-node.js';
import type { PlateDetector } from '../../src/models/plates/plate-detector.js';
import { readingChange } from '../../src/models/plates/reading-change.js';
import { fillPixelate } from '../../src/anonymize/fill-pixelate.js';
import { groupRegions } from '../../src/anonymize/mask.js';

const readerFile = fileURLToPath(new URL('../../models/plate-reader.safetensors', import.meta.url));

/** A smooth random colour field: a stand-in for a street photo behind the pasted scenes. */
function background(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed), data = new Uint8Array(width * height * 3);
  const k = Array.from({ length: 9 }, () => rng.uniform() * 0.02);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(110 + 60 * Math.sin(k[c]! * x + k[c + 3]! * y + 10 * k[c + 6]!));
  return { width, height, data, channels: 3 };
}

/** Outside the mask: how many bytes differ (must be 0). */
function changedOutside(a: RgbImage, b: RgbImage, mask: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) if (!mask[p]) for (let c = 0; c < 3; c++) n += +(a.data[p * 3 + c] !== b.data[p * 3 + c]);
  return n;
}

const found = (scene: PastedScenes, dets: { box: { x: number; y: number; width: number; height: number } }[]) =>
  scene.plates.filter((p) => dets.some((d) => iou(d.box, p.box) >= 0.5)).length;

let engine: Engine, detector: PlateDetector, reader: DigitClassifier, scene: PastedScenes;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  detector = loadPlateDetector(BUNDLED_PLATE_DETECTOR, { engine });
  reader = loadClassifier(readerFile, engine).model;
  // Scenes of 150–300 px in an 800 × 450 image: plates ≈ 24–180 px wide, several below what the letterboxed image shows.
  scene = pasteScenes(background(800, 450, 1), { first: 0, count: 8, minSide: 150, maxSide: 300, seed: 2 });
});
afterAll(() => {
  detector?.dispose();
  reader?.dispose();
  engine?.dispose();
});

describe('plates in anonymize', () => {
  it('finds the plates of a synthetic scene, fills them in every classical mode, keeps every byte outside the mask, and the reader no longer reads them', async () => {
    expect(scene.plates.length).toBeGreaterThanOrEqual(5);
    const before = bytesToBatch(scene.image);
    for (const mode of ['blur', 'pixelate', 'solid', 'telea'] as FillMode[]) {
      const r = await anonymize(engine, scene.image, { faces: false, plates: true, plateDetector: detector, mode });
      expect(found(scene, r.plates), mode).toBeGreaterThanOrEqual(Math.ceil(0.8 * scene.plates.length));
      expect(r.boxes).toEqual([]);
      expect(r.detections.every((d) => d.kind === 'plate')).toBe(true);
      expect(r.detections.map((d) => d.score)).toEqual(r.plates.map((d) => d.score));
      expect(changedOutside(scene.image, r.image, r.mask.data), mode).toBe(0);
      let filled = 0, changed = 0;
      for (let p = 0; p < r.mask.data.length; p++) if (r.mask.data[p]) { filled++; changed += +[0, 1, 2].some((c) => r.image.data[p * 3 + c] !== scene.image.data[p * 3 + c]); }
      expect(filled).toBeGreaterThan(1000);
      expect(changed / filled, mode).toBeGreaterThan(0.5);
      // Each detection's mask rectangle is its box shrunk by 10 % per side, inside the mask.
      for (const d of r.detections) {
        expect(d.rect).not.toBeNull();
        const { x0, y0, x1, y1 } = d.rect!;
        expect(x0).toBe(Math.max(0, Math.round(d.box.x) + Math.floor((Math.round(d.box.x + d.box.width) - Math.round(d.box.x)) * 0.1)));
        expect(r.mask.data[y0 * 800 + x0]).toBe(255);
        expect(r.mask.data[(y1 - 1) * 800 + x1 - 1]).toBe(255);
      }
      const rc = await readingChange(reader, scene.plates, before, bytesToBatch(r.image));
      console.log(`${mode}: ${found(scene, r.plates)}/${scene.plates.length} plates found; ${rc.changed}/${rc.readableBefore} readable plates read differently`);
      expect(rc.readableBefore).toBeGreaterThanOrEqual(3);
      expect(rc.changed, mode).toBe(rc.readableBefore);
    }
  }, 60_000);

  it('faces and plates together: the report lists both kinds, and extra boxes as kind box', async () => {
    // No face in this scene: an untrained stand-in would do, but the Node entry loads the real detector anyway.
    const r = await anonymizeNode(engine, scene.image, { plates: true, mode: 'solid', boxes: [{ x: 5, y: 5, width: 20, height: 20 }] });
    expect(r.boxes).toEqual([]);
    expect(r.plates.length).toBeGreaterThan(0);
    expect(r.detections.map((d) => d.kind)).toEqual([...r.plates.map(() => 'plate'), 'box']);
    expect(r.detections.at(-1)!.rect).toEqual({ x0: 7, y0: 7, x1: 23, y1: 23 });
  });

  it('the large-photo path: tiles find the small plates the letterboxed photo misses; the tile count stays bounded', async () => {
    const big = pasteScenes(background(1200, 675, 2), { first: 100, count: 8, minSide: 140, maxSide: 320, seed: 1 });
    expect(big.plates.length).toBeGreaterThanOrEqual(8);
    const whole = await detectPlatesTiled(detector, big.image, { maxTiles: 0 });
    const r = await anonymize(engine, big.image, { faces: false, plates: true, plateDetector: detector, mode: 'pixelate' });
    console.log(`1200×675: ${found(big, whole)} of ${big.plates.length} plates on the whole photo, ${found(big, r.plates)} with tiles`);
    expect(found(big, whole)).toBeLessThan(big.plates.length / 2);
    expect(found(big, r.plates)).toBeGreaterThanOrEqual(Math.ceil(0.75 * big.plates.length));
    expect(changedOutside(big.image, r.image, r.mask.data)).toBe(0);
  }, 60_000);

  it('tile levels halve from the longer side down to the input, overlap by half a tile, and respect the budget', () => {
    const levels = plateTileLevels(1920, 1080, 128, 1024);
    expect(levels.map((l) => l.side)).toEqual([960, 480, 240, 128]);
    for (const l of levels) {
      for (const [xs, len] of [[l.xs, 1920], [l.ys, 1080]] as const) {
        expect(xs[0]).toBe(0);
        expect(xs.at(-1)! + l.side).toBe(len);
        for (let i = 1; i < xs.length; i++) expect(xs[i]! - xs[i - 1]!).toBeLessThanOrEqual(l.side / 2);
      }
    }
    const count = (ls: typeof levels) => ls.reduce((n, l) => n + l.xs.length * l.ys.length, 0);
    expect(count(levels)).toBeLessThanOrEqual(1024);
    // A 6000 × 4000 photo: the finest levels are dropped to stay within the budget.
    const big = plateTileLevels(6000, 4000, 128, 1024);
    expect(count(big)).toBeLessThanOrEqual(1024);
    expect(big.at(-1)!.side).toBeGreaterThan(128);
    expect(plateTileLevels(100, 80, 128, 1024)).toEqual([]);
    expect(plateTileLevels(1920, 1080, 128, 0)).toEqual([]);
  });

  it('pixelate counts blocks along a plate\'s longer side, a face\'s shorter side', () => {
    const rng = new Rng(4), W = 80, H = 20;
    const noise = () => ({ width: W, height: H, channels: 3 as const, data: Uint8Array.from({ length: W * H * 3 }, () => Math.floor(rng.uniform() * 256)) });
    const [g] = groupRegions([{ x0: 10, y0: 4, x1: 70, y1: 16 }]); // 60 × 12
    for (const [across, side] of [['longer', 10], ['shorter', 2]] as const) {
      const img = noise();
      fillPixelate(img, g!, 6, across);
      // Every pixel of a side × side block (grid from the region's corner) has the block's colour, and neighbouring blocks differ.
      for (let y = 4; y < 16; y++)
        for (let x = 10; x < 70; x++) {
          const bx = 10 + Math.floor((x - 10) / side) * side, by = 4 + Math.floor((y - 4) / side) * side;
          for (let c = 0; c < 3; c++) expect(img.data[(y * W + x) * 3 + c]).toBe(img.data[(by * W + bx) * 3 + c]);
        }
      expect(img.data[(4 * W + 10) * 3]).not.toBe(img.data[(4 * W + 10 + side) * 3]);
    }
  });

  it('plate options are checked in one line', async () => {
    const img = background(64, 48, 0);
    const run = (o: object) => anonymize(engine, img, { faces: false, ...o } as never);
    await expect(run({ plates: true })).rejects.toThrow(/^anonymize: plates: true needs a plateDetector \(none given\)/);
    await expect(run({ plates: 'yes', plateDetector: detector })).rejects.toThrow(/^anonymize: plates = .* must be true or false$/);
    await expect(run({ plateThreshold: 0.3 })).rejects.toThrow(/^anonymize: plateThreshold was given but plates is false$/);
    await expect(run({ plates: true, plateDetector: detector, plateThreshold: 1 })).rejects.toThrow(/^anonymize: plateThreshold = 1 must be a number between 0 and 1$/);
    await expect(run({ plates: true, plateDetector: detector, plateTiles: -1 })).rejects.toThrow(/^anonymize: plateTiles = -1 must be an integer from 0 to 100000$/);
    const other = await createEngine({ backend: 'wasm', threads: 1 });
    try {
      await expect(run({ plates: true, plateDetector: loadPlateDetector(BUNDLED_PLATE_DETECTOR, { engine: other }) })).rejects.toThrow(/^anonymize: the plate detector lives on another engine/);
    } finally {
      other.dispose();
    }
    await expect(anonymizeNode(engine, img, { faces: false, plateWeights: 'x' })).rejects.toThrow(/^anonymize: plateWeights was given but plates is not true$/);
    await expect(anonymizeNode(engine, img, { faces: false, plates: true, plateWeights: '/no/such.safetensors' })).rejects.toThrow(/no\/such\.safetensors/);
    // Nothing found: the image comes back byte for byte.
    const none = await anonymizeNode(engine, img, { faces: false, plates: true });
    expect(none.plates).toEqual([]);
    expect(none.image.data).toEqual(img.data);
  });
});
