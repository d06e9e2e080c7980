import { afterAll, describe, expect, it } from 'vitest';
import { plateScenes } from '../../src/data/plates/dataset.js';
import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from '../../src/data/plates/font.js';
import { plateScene } from '../../src/data/plates/scene.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import type { Detection } from '../../src/models/detect/box.js';
import { fitAnchors } from '../../src/models/plates/anchors.js';
import { averagePrecision } from '../../src/models/plates/average-precision.js';
import { checkPlateDetectorConfig, plateDetectorParamCount, type PlateDetectorConfig } from '../../src/models/plates/config.js';
import { detectPlates, detectPlatesInBatch } from '../../src/models/plates/detect-plates.js';
import { plateDetectorFromBytes, plateDetectorToBytes } from '../../src/models/plates/plate-file.js';
import { PlateDetector } from '../../src/models/plates/plate-detector.js';
import { plateCrops, READER_CROP } from '../../src/models/plates/reader.js';
import { DEFAULT_LOSS_WEIGHTS, yoloTargets } from '../../src/models/plates/targets.js';
import { defaultLoopOptions, runTraining } from '../../src/train/loop.js';
import { PlateDetectorTask } from '../../src/train/tasks/plate-detector.js';

const engine = await createEngine({ backend: 'wasm', threads: 1 });
afterAll(() => engine.dispose());

const TINY: PlateDetectorConfig = { kind: 'plate-detector', inputSize: 64, widths: [8, 16, 16], stride: 8, anchors: [[2, 0.6], [4, 1.2]] };
const det = (x: number, y: number, w: number, h: number, score: number): Detection => ({ box: { x, y, width: w, height: h }, score });

describe('average precision', () => {
  it('matches a hand-computed example: the area under the precision envelope', () => {
    const truths = [[{ x: 0, y: 0, width: 10, height: 10 }, { x: 50, y: 50, width: 10, height: 10 }], [{ x: 0, y: 0, width: 10, height: 10 }]];
    const dets = [
      [det(0, 0, 10, 10, 0.9), det(100, 100, 10, 10, 0.8), det(1, 0, 10, 10, 0.6), det(50, 51, 10, 10, 0.5)],
      [det(0, 1, 10, 10, 0.7)],
    ];
    // By score: TP (1/1), FP (1/2), TP (2/3), duplicate = FP (2/4), TP (3/5); recall 1/3, 1/3, 2/3, 2/3, 1.
    // Envelope 1, 2/3, 2/3, 3/5, 3/5: AP = 1/3·1 + 1/3·2/3 + 1/3·3/5 = 34/45.
    const r = averagePrecision(dets, truths);
    expect(r.ap).toBeCloseTo(34 / 45, 12);
    expect(r.precision).toEqual([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5]);
    expect(r.recall).toEqual([1 / 3, 1 / 3, 2 / 3, 2 / 3, 1]);
    expect([r.truePositives, r.falsePositives, r.groundTruths]).toEqual([3, 2, 3]);
  });

  it('is 1 for perfect detections, 0 for none or all misplaced, and refuses an empty ground truth', () => {
    const truths = [[{ x: 0, y: 0, width: 10, height: 10 }]];
    expect(averagePrecision([[det(0, 0, 10, 10, 0.3)]], truths).ap).toBe(1);
    expect(averagePrecision([[]], truths).ap).toBe(0);
    // IoU 0.33 < 0.5: a miss at the default threshold, a hit at 0.3.
    expect(averagePrecision([[det(5, 0, 10, 10, 0.9)]], truths).ap).toBe(0);
    expect(averagePrecision([[det(5, 0, 10, 10, 0.9)]], truths, 0.3).ap).toBe(1);
    // A false positive scored above the hit halves the precision at full recall.
    expect(averagePrecision([[det(50, 50, 5, 5, 0.9), det(0, 0, 10, 10, 0.8)]], truths).ap).toBeCloseTo(0.5, 12);
    expect(() => averagePrecision([[]], [[]])).toThrow(/^averagePrecision: there is no ground-truth box/);
    expect(() => averagePrecision([[], []], truths)).toThrow(/^averagePrecision: 2 images of detections but 1 of ground truth$/);
  });
});

describe('plate detector', () => {
  it('targets: one plate makes one positive slot in its centre cell with the best-fitting anchor', () => {
    // Centre (20, 36) px = (2.5, 4.5) cells at stride 8; 32 × 9 px = 4 × 1.125 cells: anchor 1 fits best.
    const t = yoloTargets([[{ x: 4, y: 31.5, width: 32, height: 9 }]], TINY);
    const G = 8, plane = G * G, cell = 4 * G + 2, at = (a: number, k: number) => (a * 5 + k) * plane + cell;
    expect(t.positives).toBe(1);
    expect(t.shape).toEqual([1, 10, 8, 8]);
    expect(t.objTarget.reduce((s, v) => s + v, 0)).toBe(1);
    expect(t.objTarget[at(1, 4)]).toBe(1);
    expect(t.objWeight[at(1, 4)]).toBe(DEFAULT_LOSS_WEIGHTS.object);
    expect(t.xyTarget[at(1, 0)]).toBeCloseTo(0.5, 6);
    expect(t.xyTarget[at(1, 1)]).toBeCloseTo(0.5, 6);
    expect(t.whTarget[at(1, 2)]).toBeCloseTo(Math.log(4 / 4), 6);
    expect(t.whTarget[at(1, 3)]).toBeCloseTo(Math.log(1.125 / 1.2), 6);
    // Far from the plate an objectness value is a negative.
    expect(t.objWeight[(0 * 5 + 4) * plane + 0]).toBe(DEFAULT_LOSS_WEIGHTS.noObject);
    expect(t.xyWeight.filter((v) => v > 0).length).toBe(2);
  });

  it('the loss falls over a few steps on a fixed batch', async () => {
    const set = await plateScenes({ split: 'train', count: 4, size: TINY.inputSize, photos: false });
    const model = new PlateDetector(engine, TINY, 3);
    const task = new PlateDetectorTask(model);
    const losses: number[] = [];
    await runTraining(task, set, { ...defaultLoopOptions, batch: 4, lr: 1e-2, warmupSteps: 0, epochs: 30, maxSteps: 30 }, { onStep: (m) => losses.push(m.loss) });
    task.dispose();
    model.dispose();
    expect(losses.length).toBe(30);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]!);
  });

  it('saves and loads: the same config, the same weights, the same outputs', async () => {
    const model = new PlateDetector(engine, TINY, 7);
    expect(model.paramCount()).toBe(plateDetectorParamCount(TINY));
    const bytes = await plateDetectorToBytes(model);
    const back = plateDetectorFromBytes(bytes, { engine, name: 'p.safetensors' });
    expect(back.config).toEqual(TINY);
    expect(await plateDetectorToBytes(back)).toEqual(bytes);
    const x = plateScene(1, { size: 64 }).image.data;
    const [a, b] = [await detectPlatesInBatch(model, x, { scoreThreshold: 0.001 }), await detectPlatesInBatch(back, x, { scoreThreshold: 0.001 })];
    expect(b).toEqual(a);
    expect(a[0]!.length).toBeGreaterThan(0);
    model.dispose();
    back.dispose();
  });

  it('a bad config or file is refused in one line naming the problem', async () => {
    const bad = (c: unknown) => { const r = checkPlateDetectorConfig(c); return r.ok ? 'ok' : r.problem; };
    expect(bad({ ...TINY, inputSize: 60 })).toBe('config inputSize = 60 must be a multiple of the stride 8');
    expect(bad({ ...TINY, stride: 4 })).toBe('config stride = 4 must be 8, 16 or 32');
    expect(bad({ ...TINY, widths: [8, 16] })).toBe('config widths = [8, 16] must list at least 3 layers: a stride of 8 pools after 3 of them');
    expect(bad({ ...TINY, anchors: [[0, 1]] })).toBe('config anchors[0][0] = 0 must be a number above 0 and at most 64');
    expect(bad({ ...TINY, extra: 1 })).toMatch(/^config has unknown key 'extra'/);
    expect(() => new PlateDetector(engine, { ...TINY, widths: [] })).toThrow(/^PlateDetector: config widths = \[\] must list at least one layer$/);
    const model = new PlateDetector(engine, TINY);
    const good = await plateDetectorToBytes(model);
    const tensors = new Map([...model.namedParams()].map(([k, p]) => [k, { shape: [...p.shape], data: new Float32Array(p.size) }]));
    tensors.delete('head.bias');
    const missing = encodeSafetensors(tensors, { 'inflow.format': 'inflow-plate-detector-1', 'inflow.config': JSON.stringify(TINY) });
    expect(() => plateDetectorFromBytes(missing, { engine, name: 'm' })).toThrow(/^m: the config declares [\d,]+ parameters but the file carries [\d,]+ \(parameter 'head.bias' is missing\)$/);
    const other = encodeSafetensors(new Map(), { 'inflow.format': 'inflow-model-1', 'inflow.config': '{}' });
    expect(() => plateDetectorFromBytes(other, { engine, name: 'o' })).toThrow(/^o: not an inflow plate detector file \(format "inflow-model-1"\)$/);
    const badConfig = encodeSafetensors(new Map(), { 'inflow.format': 'inflow-plate-detector-1', 'inflow.config': JSON.stringify({ ...TINY, widths: [0, 1, 2] }) });
    expect(() => plateDetectorFromBytes(badConfig, { engine, name: 'c' })).toThrow(/^c: config widths\[0\] = 0 must be an integer from 1 to 512$/);
    expect(() => plateDetectorFromBytes(good.subarray(0, good.length - 3), { engine, name: 't' })).toThrow(/^t: /);
    await expect(detectPlates(model, { width: 10, height: 10, data: new Uint8Array(300) }, { scoreThreshold: 2 })).rejects.toThrow(/^detectPlates: scoreThreshold = 2 must be a number between 0 and 1$/);
    await expect(detectPlates(model, { width: 10, height: 10, data: new Uint8Array(300) }, { nms: 1 } as object)).rejects.toThrow(/^detectPlates: unknown option 'nms'/);
    model.dispose();
  });

  it('detects on a photo of any size through the letterbox, in the photo\'s pixels', async () => {
    const model = new PlateDetector(engine, TINY, 1);
    // A 128 × 64 photo whose 2 × 2 blocks are the top half of a 64 × 64 scene: letterboxed to 64
    // (padded below, then every second pixel) it is that half over black, so its boxes are the
    // half-scene's doubled.
    const sc = plateScene(9, { size: 64 });
    const byte = (c: number, y: number, x: number) => Math.round((sc.image.data[c * 4096 + y * 64 + x]! + 1) * 127.5);
    const px = new Uint8Array(128 * 64 * 3), half = new Float32Array(3 * 64 * 64).fill(-1);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 128; x++) for (let c = 0; c < 3; c++) px[(y * 128 + x) * 3 + c] = byte(c, y >> 1, x >> 1);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) half[c * 4096 + y * 64 + x] = byte(c, y, x) / 127.5 - 1;
    const found = await detectPlates(model, { width: 128, height: 64, data: px }, { scoreThreshold: 0.001 });
    const [want] = await detectPlatesInBatch(model, half, { scoreThreshold: 0.001 });
    expect(found.length).toBe(want!.length);
    expect(found.length).toBeGreaterThan(0);
    found.forEach((d, i) => {
      const w = want![i]!;
      expect(d.score).toBeCloseTo(w.score, 5);
      for (const k of ['x', 'y', 'width', 'height'] as const) expect(d.box[k]).toBeCloseTo(2 * w.box[k], 3);
    });
    model.dispose();
  });

  it('fits anchors to box sizes by k-means on 1 − IoU', () => {
    const sizes: [number, number][] = [];
    for (let i = 0; i < 30; i++) sizes.push([1 + 0.01 * i, 0.3], [4 + 0.01 * i, 1.2]);
    const a = fitAnchors(sizes, 2, 1);
    expect(a[0]![0]).toBeCloseTo(1.145, 6);
    expect(a[0]![1]).toBeCloseTo(0.3, 6);
    expect(a[1]![0]).toBeCloseTo(4.145, 6);
    expect(() => fitAnchors(sizes.slice(0, 1), 2)).toThrow(/^fitAnchors: 1 boxes cannot make 2 anchors$/);
  });
});

describe('plate reader crops', () => {
  it('cuts each character cell through the plate\'s map: dark where the glyph is lit', () => {
    // A large sharp plate: the crop's mean over the glyph's lit font pixels is far darker than over its unlit ones.
    let checked = 0;
    for (let seed = 0; checked < 2 && seed < 50; seed++) {
      const sc = plateScene(seed, { size: 256, degrade: false });
      for (const p of sc.plates.filter((q) => q.box.width > 110)) {
        const crops = plateCrops(sc.image, p);
        expect(crops.length).toBe(p.layout.chars.length);
        crops.forEach((crop, i) => {
          const g = glyph(p.layout.chars[i]!), cell = p.layout.cells[i]!, [, h, w] = READER_CROP;
          let lit = 0, nLit = 0, dark = 0, nDark = 0;
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++) {
              // Crop pixel centre in glyph font pixels (the crop adds 0.5 plate units on each side).
              const u = -0.5 + ((x + 0.5) / w) * (cell.width + 1), v = (-0.5 + ((y + 0.5) / h) * (cell.height + 1)) / (cell.height / GLYPH_HEIGHT);
              const q = Math.floor(u), r = Math.floor(v);
              if (q < 0 || q >= GLYPH_WIDTH || r < 0 || r >= GLYPH_HEIGHT || Math.abs(u - q - 0.5) > 0.25 || Math.abs(v - r - 0.5) > 0.25) continue;
              if (g[r * GLYPH_WIDTH + q]) { lit += crop[y * w + x]!; nLit++; } else { dark += crop[y * w + x]!; nDark++; }
            }
          expect(lit / nLit).toBeLessThan(dark / nDark - 60);
        });
        checked++;
      }
    }
    expect(checked).toBe(2);
  });
});
