import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { anonymize, FILL_MODES } from '../../src/anonymize/anonymize.js';
import { gaussianBoxes } from '../../src/anonymize/fill-blur.js';
import { buildMask } from '../../src/anonymize/mask.js';
import { MinHeap } from '../../src/anonymize/min-heap.js';
import type { RgbImage } from '../../src/models/detect/image.js';

const W = 64, H = 48;

function noise(channels: 3 | 4, seed = 1): RgbImage {
  const r = new Rng(seed), data = new Uint8Array(W * H * channels);
  for (let i = 0; i < data.length; i++) data[i] = r.below(256);
  return { width: W, height: H, data, channels };
}

function image(f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = f(x, y, c);
  return { width: W, height: H, data };
}

/** Two boxes (one crossing the right edge) → after the 10 % shrink, these are filled. */
const BOXES = [{ x: 5, y: 6, width: 20, height: 30 }, { x: 50, y: 20, width: 30, height: 20 }];
const classical = FILL_MODES.filter((m) => m !== 'inpaint');

describe('fill modes', () => {
  it('every mode changes only the masked pixels (bit-exact outside, alpha kept) and never the input', async () => {
    for (const channels of [3, 4] as const) {
      const img = noise(channels), before = Uint8Array.from(img.data);
      const { mask } = buildMask(BOXES, W, H);
      for (const mode of classical) {
        const r = await anonymize(null, img, { faces: false, boxes: BOXES, mode });
        expect(img.data, `${mode}: input untouched`).toEqual(before);
        expect(r.mask.data).toEqual(mask.data);
        expect(r.image.channels).toBe(channels);
        let outsideChanged = 0, insideChanged = 0, alphaChanged = 0;
        for (let p = 0; p < W * H; p++)
          for (let c = 0; c < channels; c++) {
            const diff = r.image.data[p * channels + c] !== before[p * channels + c];
            if (c === 3) alphaChanged += +diff;
            else if (mask.data[p]) insideChanged += +diff;
            else outsideChanged += +diff;
          }
        expect(outsideChanged, `${mode} ${channels}`).toBe(0);
        expect(alphaChanged, `${mode} ${channels}`).toBe(0);
        // Noise: almost every masked value changes.
        expect(insideChanged / (mask.data.filter((v) => v).length * 3), `${mode} ${channels}`).toBeGreaterThan(0.9);
      }
    }
  });

  it('solid paints the colour; pixelate writes each block the rounded mean of its masked pixels', async () => {
    const img = noise(3, 7), box = { x: 0, y: 0, width: 40, height: 30 };
    const solid = await anonymize(null, img, { faces: false, boxes: [box], mode: 'solid', color: [10, 200, 30] });
    expect(Array.from(solid.image.data.subarray((10 * W + 10) * 3, (10 * W + 10) * 3 + 3))).toEqual([10, 200, 30]);
    // The region is x 4…35, y 3…26 (32 × 24); 4 blocks across 24 rows: 6-pixel blocks from (4, 3).
    const pix = await anonymize(null, img, { faces: false, boxes: [box], mode: 'pixelate', blocks: 4 });
    for (const [bx, by] of [[0, 0], [4, 3], [2, 1]] as const) {
      const sum = [0, 0, 0];
      for (let y = 3 + 6 * by; y < 3 + 6 * by + 6; y++)
        for (let x = 4 + 6 * bx; x < 4 + 6 * bx + 6; x++) for (let c = 0; c < 3; c++) sum[c]! += img.data[(y * W + x) * 3 + c]!;
      for (let y = 3 + 6 * by; y < 3 + 6 * by + 6; y++)
        for (let x = 4 + 6 * bx; x < 4 + 6 * bx + 6; x++)
          for (let c = 0; c < 3; c++) expect(pix.image.data[(y * W + x) * 3 + c]).toBe(Math.round(sum[c]! / 36));
    }
  });

  it('blur: three boxes match σ² closely, keep a constant image and a linear ramp (a symmetric kernel)', async () => {
    for (const sigma of [1, 2.5, 7, 30]) {
      const v = gaussianBoxes(sigma).reduce((s, w) => s + (w * w - 1) / 12, 0);
      expect(Math.abs(v - sigma * sigma) / (sigma * sigma), `σ ${sigma}`).toBeLessThan(0.35);
    }
    const flat = await anonymize(null, image(() => 77), { faces: false, boxes: BOXES, mode: 'blur' });
    expect(flat.image.data.every((v) => v === 77)).toBe(true);
    // A ramp in x, far enough from the edges that the repeated edge pixels do not reach: unchanged.
    const ramp = image((x, y, c) => 40 + 2 * x + c);
    const r = await anonymize(null, ramp, { faces: false, boxes: [{ x: 20, y: 10, width: 24, height: 28 }], mode: 'blur', blur: 0.1 });
    let maxErr = 0;
    for (let i = 0; i < ramp.data.length; i++) maxErr = Math.max(maxErr, Math.abs(r.image.data[i]! - ramp.data[i]!));
    expect(maxErr).toBeLessThanOrEqual(1);
    // Noise is smoothed: the masked values' spread drops well below the uniform noise's (≈ 74).
    const n = await anonymize(null, noise(3, 3), { faces: false, boxes: BOXES, mode: 'blur' });
    const inside: number[] = [];
    n.mask.data.forEach((m, p) => { if (m) inside.push(n.image.data[p * 3]!); });
    const mean = inside.reduce((s, v) => s + v, 0) / inside.length;
    expect(Math.sqrt(inside.reduce((s, v) => s + (v - mean) ** 2, 0) / inside.length)).toBeLessThan(15);
  });

  it('telea: a constant stays constant, a ramp is continued, a hole at the edge and a hole over everything', async () => {
    const flat = await anonymize(null, image(() => 140), { faces: false, boxes: BOXES, mode: 'telea' });
    expect(flat.image.data.every((v) => v === 140)).toBe(true);
    const ramp = image((x, y) => 20 + 3 * x + (y >> 3));
    const r = await anonymize(null, ramp, { faces: false, boxes: [{ x: 10, y: 5, width: 40, height: 38 }, { x: 55, y: 0, width: 20, height: 20 }], mode: 'telea' });
    const inHole: number[] = [], filled: number[] = [];
    r.mask.data.forEach((m, p) => {
      if (m) { inHole.push(ramp.data[p * 3]!); filled.push(r.image.data[p * 3]!); }
    });
    const mae = (f: (i: number) => number) => inHole.reduce((s, v, i) => s + Math.abs(v - f(i)), 0) / inHole.length;
    // The best any constant fill could do: the hole's own median value.
    const median = [...inHole].sort((a, b) => a - b)[inHole.length >> 1]!;
    const constant = mae(() => median), telea = mae((i) => filled[i]!);
    expect(telea).toBeLessThan(constant / 2);
    const worst = Math.max(...inHole.map((v, i) => Math.abs(v - filled[i]!)));
    expect(worst).toBeLessThan((Math.max(...inHole) - Math.min(...inHole)) / 2);
    const all = await anonymize(null, noise(3), { faces: false, boxes: [{ x: -10, y: -10, width: 200, height: 200 }], shrink: 0, mode: 'telea' });
    expect(all.image.data.every((v) => v === 128)).toBe(true);
  });

  it('the heap pops by key, ties in the order pushed', () => {
    const h = new MinHeap(), r = new Rng(5), keys: number[] = [];
    for (let i = 0; i < 200; i++) { keys.push(r.below(20)); h.push(i, keys[i]!); }
    const out: number[] = [];
    while (h.size) out.push(h.pop());
    expect(out).toEqual([...keys.keys()].sort((a, b) => keys[a]! - keys[b]! || a - b));
  });
});
