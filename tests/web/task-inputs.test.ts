import { describe, expect, it } from 'vitest';
import { isGrey, presetMask, rgbaToPixels, showHole } from '../../web/task-inputs.js';

// The demo's image-task panel (web/tasks-panel.ts): its masks and image conversions, without a browser.

const count = (m: Float32Array) => m.filter((v) => v === 255).length;

describe('preset inpainting masks', () => {
  it('the centre square is half the side, the halves half the image; only 0 and 255', () => {
    const c = presetMask('centre', 28, 28);
    expect(count(c)).toBe(14 * 14);
    expect(c[7 * 28 + 7]).toBe(255);
    expect(c[6 * 28 + 7]).toBe(0);
    expect(c[20 * 28 + 20]).toBe(255);
    expect(c[21 * 28 + 20]).toBe(0);
    for (const half of ['left', 'right', 'top', 'bottom'] as const) expect(count(presetMask(half, 28, 28)), half).toBe(28 * 14);
    expect(presetMask('left', 2, 4)).toEqual(Float32Array.from([255, 255, 0, 0, 255, 255, 0, 0]));
    expect(presetMask('bottom', 2, 2)).toEqual(Float32Array.from([0, 0, 255, 255]));
    expect([...presetMask('centre', 7, 9)].every((v) => v === 0 || v === 255)).toBe(true);
    expect(count(presetMask('centre', 7, 9))).toBe(4 * 5);
  });
});

describe('canvas pixels', () => {
  it('RGBA → planar grey (mean of R, G, B) or RGB, alpha ignored; grey detection', () => {
    const rgba = [10, 20, 30, 255, 200, 200, 200, 0];
    expect(Array.from(rgbaToPixels(rgba, 2, 1, 1))).toEqual([20, 200]);
    expect(Array.from(rgbaToPixels(rgba, 2, 1, 3))).toEqual([10, 200, 20, 200, 30, 200]);
    expect(isGrey(rgba)).toBe(false);
    expect(isGrey([5, 5, 5, 255, 9, 9, 9, 0])).toBe(true);
  });

  it('the masked input shows the hole mid-grey in every channel and keeps the rest', () => {
    const px = [0, 50, 100, 150, 1, 2, 3, 4];
    expect(Array.from(showHole(px, [0, 255, 128, 0], 2))).toEqual([0, 128, 128, 150, 1, 128, 128, 4]);
  });
});
