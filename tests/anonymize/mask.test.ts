import { describe, expect, it } from 'vitest';
import { buildMask, groupRegions, maskRect } from '../../src/anonymize/mask.js';

/** The Private IDD rule on an integer box (x1, y1, x2, y2), written as its Python does: int(range · 0.10) off each side. */
function pythonRect(x1: number, y1: number, x2: number, y2: number, shrink = 0.1) {
  const dx = Math.trunc((x2 - x1) * shrink), dy = Math.trunc((y2 - y1) * shrink);
  return { x0: x1 + dx, y0: y1 + dy, x1: x2 - dx, y1: y2 - dy };
}

describe('masks', () => {
  it('integer boxes shrink as the Python original does, for many sizes and both shrink defaults', () => {
    for (const [x, y, w, h] of [[10, 20, 100, 50], [0, 0, 7, 9], [3, 5, 19, 31], [40, 1, 33, 10], [5, 5, 1, 1]] as const)
      for (const shrink of [0.1, 0.25, 0]) {
        const r = maskRect({ x, y, width: w, height: h }, 200, 100, { shrink });
        const p = pythonRect(x, y, x + w, y + h, shrink);
        expect(r, `${x},${y},${w},${h} shrink ${shrink}`).toEqual(p.x1 > p.x0 && p.y1 > p.y0 ? p : null);
      }
    // 100 × 50 keeps the central 80 × 40.
    expect(maskRect({ x: 10, y: 20, width: 100, height: 50 }, 200, 100)).toEqual({ x0: 20, y0: 25, x1: 100, y1: 65 });
  });

  it('fractional edges are rounded first; dilation grows every side; the image clips', () => {
    expect(maskRect({ x: 9.6, y: 19.4, width: 100.2, height: 50.3 }, 200, 100)).toEqual({ x0: 20, y0: 24, x1: 100, y1: 65 });
    expect(maskRect({ x: 10, y: 20, width: 100, height: 50 }, 200, 100, { dilate: 3 })).toEqual({ x0: 17, y0: 22, x1: 103, y1: 68 });
    expect(maskRect({ x: -50, y: 90, width: 100, height: 50 }, 200, 100)).toEqual({ x0: 0, y0: 95, x1: 40, y1: 100 });
    expect(maskRect({ x: 300, y: 0, width: 10, height: 10 }, 200, 100)).toBeNull();
  });

  it('the mask is exactly the union of the rectangles; touching or overlapping ones form one region', () => {
    const { mask, regions } = buildMask([
      { x: 0, y: 0, width: 10, height: 10 }, { x: 10, y: 5, width: 10, height: 10 }, // overlap after rounding: one region
      { x: 40, y: 40, width: 10, height: 10 }, // alone
    ], 60, 50, { shrink: 0 });
    expect(regions).toHaveLength(2);
    const [a, b] = regions[0]!.rects.length === 2 ? [regions[0]!, regions[1]!] : [regions[1]!, regions[0]!];
    expect(a).toMatchObject({ x0: 0, y0: 0, x1: 20, y1: 15 });
    expect(b).toMatchObject({ x0: 40, y0: 40, x1: 50, y1: 50 });
    let filled = 0;
    for (let y = 0; y < 50; y++)
      for (let x = 0; x < 60; x++) {
        const inside = (x < 10 && y < 10) || (x >= 10 && x < 20 && y >= 5 && y < 15) || (x >= 40 && x < 50 && y >= 40 && y < 50);
        expect(mask.data[y * 60 + x], `${x},${y}`).toBe(inside ? 255 : 0);
        filled += inside ? 1 : 0;
      }
    // A region's hole is its rectangles only, not its bounding box.
    expect(a.hole.reduce((s, v) => s + v, 0)).toBe(200);
    expect(filled).toBe(300);
    // Corner to corner is touching too; a one-pixel gap is not.
    expect(groupRegions([{ x0: 0, y0: 0, x1: 5, y1: 5 }, { x0: 5, y0: 5, x1: 9, y1: 9 }])).toHaveLength(1);
    expect(groupRegions([{ x0: 0, y0: 0, x1: 5, y1: 5 }, { x0: 6, y0: 0, x1: 9, y1: 5 }])).toHaveLength(2);
  });

  it('bad options and boxes are one line each', () => {
    const box = { x: 0, y: 0, width: 10, height: 10 };
    expect(() => maskRect(box, 10, 10, { shrink: 0.5 })).toThrow(/^maskRect: shrink = 0.5 must be a number from 0 up to \(not including\) 0.5$/);
    expect(() => maskRect(box, 10, 10, { shrink: -0.1 })).toThrow(/shrink = -0.1/);
    expect(() => maskRect(box, 10, 10, { dilate: 1.5 })).toThrow(/^maskRect: dilate = 1.5 must be an integer from 0 to 10000 \(pixels\)$/);
    expect(() => maskRect({ ...box, x: NaN }, 10, 10)).toThrow(/must have finite x, y, width and height/);
  });
});
