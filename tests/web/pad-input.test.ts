import { describe, expect, it } from 'vitest';
import { frameDigit } from '../../web/pad-input.js';

/*
 * The demo's drawing pad (web/) frames a drawing as MNIST's digits were framed before the flow
 * scores it: the ink's bounding box scaled into 20 × 20 with its aspect ratio kept, then placed in
 * 28 × 28 with its centre of mass at the centre. Issue 12: the pad shrunk as a whole read an empty
 * pad as a "1" (p 0.99) and a large 7 as a 1.
 */

const PAD = 280;

/** A 280 × 280 pad with round strokes of radius r through the given points (pad pixels), ink 255. */
function pad(strokes: Array<Array<[number, number]>>, r = 12): Float32Array {
  const img = new Float32Array(PAD * PAD);
  for (const points of strokes) {
    for (let k = 0; k + 1 < points.length; k++) {
      const [ax, ay] = points[k]!, [bx, by] = points[k + 1]!;
      const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy || 1;
      for (let y = 0; y < PAD; y++) {
        for (let x = 0; x < PAD; x++) {
          const px = x + 0.5, py = y + 0.5;
          const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
          if (Math.hypot(px - ax - t * dx, py - ay - t * dy) <= r) img[y * PAD + x] = 255;
        }
      }
    }
  }
  return img;
}

/** Bounding box of the non-zero pixels and the centre of mass (pixel i spans [i, i + 1)). */
function measure(img: Float32Array, W = 28, H = 28): { width: number; height: number; cx: number; cy: number; max: number } {
  let x0 = W, x1 = -1, y0 = H, y1 = -1, mass = 0, mx = 0, my = 0, max = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = img[y * W + x]!;
      if (v <= 0) continue;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      mass += v; mx += v * (x + 0.5); my += v * (y + 0.5); max = Math.max(max, v);
    }
  }
  return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: mx / mass, cy: my / mass, max };
}

describe('frameDigit: a drawing framed as MNIST digits were', () => {
  it('an empty pad is no digit: null, not an image to score', () => {
    expect(frameDigit(new Float32Array(PAD * PAD), PAD, PAD)).toBeNull();
  });

  it('a large 7 drawn in the top-left corner: scaled into 20 × 20, aspect kept, centre of mass at (14, 14)', () => {
    const seven = pad([[[14, 14], [180, 14], [80, 230]]]);
    const source = { width: 180 + 12 - 2, height: 230 + 12 - 2 };   // the strokes' extent on the pad
    const out = frameDigit(seven, PAD, PAD)!;
    expect(out).toHaveLength(28 * 28);
    const m = measure(out);
    expect(m.height).toBe(20);
    expect(m.width).toBeLessThanOrEqual(20);
    expect(Math.abs(m.width - (20 * source.width) / source.height)).toBeLessThanOrEqual(1);
    expect(Math.abs(m.cx - 14)).toBeLessThanOrEqual(1);
    expect(Math.abs(m.cy - 14)).toBeLessThanOrEqual(1);
    // Stroke cores keep full ink; area averaging only greys the edges.
    expect(m.max).toBeGreaterThan(250);
    expect(out.every((v) => v >= 0 && v <= 255)).toBe(true);
  });

  it('a thin upright stroke stays thin and upright (no stretching to a square)', () => {
    const one = pad([[[240, 40], [240, 260]]], 6);
    const m = measure(frameDigit(one, PAD, PAD)!);
    expect(m.height).toBe(20);
    expect(m.width).toBeLessThanOrEqual(2);
    expect(Math.abs(m.cx - 14)).toBeLessThanOrEqual(1);
    expect(Math.abs(m.cy - 14)).toBeLessThanOrEqual(1);
  });

  it('a small digit is scaled up, a lopsided one stays inside the field', () => {
    const small = pad([[[20, 250], [40, 250], [30, 270]]], 3);
    const m = measure(frameDigit(small, PAD, PAD)!);
    expect(Math.max(m.width, m.height)).toBe(20);
    expect(Math.abs(m.cx - 14)).toBeLessThanOrEqual(1);
    // A heavy blob with a long thin tail: centring its mass would push the tail's end out of the field.
    const lopsided = pad([[[45, 140], [275, 140]]], 2);
    const blob = pad([[[45, 140], [46, 140]]], 40);
    const both = lopsided.map((v, i) => Math.max(v, blob[i]!));
    const ml = measure(frameDigit(both, PAD, PAD)!);
    expect(ml.width).toBe(20);
    expect(ml.cx).toBeLessThan(13);
  });

  it('refuses an image whose size does not match', () => {
    expect(() => frameDigit(new Float32Array(10), PAD, PAD)).toThrow(/10 values for a 280 × 280 image/);
  });
});
