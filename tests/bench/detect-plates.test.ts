// The detect suite's plate rows report GFLOP/s from plateFlops: it must walk the detector as
// src/models/plates/plate-detector.ts builds it (pools after the first log₂(stride) layers).
import { describe, expect, it } from 'vitest';
import { plateFlops } from '../../bench/detect-plates.js';
import { DEFAULT_PLATE_DETECTOR } from '../../src/models/plates/config.js';

describe('bench detect: plateFlops', () => {
  it('counts the bundled layout by hand: conv 3×3 at 128, separable blocks at 64, 32, 16, 8, 8, the head at 8', () => {
    const sep = (side: number, ci: number, co: number) => side * side * ci * (9 + co);
    const macs = 128 * 128 * 27 * 16 + sep(64, 16, 32) + sep(32, 32, 64) + sep(16, 64, 128) + sep(8, 128, 128) + sep(8, 128, 128) + 8 * 8 * 128 * 15;
    expect(plateFlops(DEFAULT_PLATE_DETECTOR)).toBe(2 * macs);
  });

  it('follows the stride: stride 8 keeps the last separable block at 16 × 16', () => {
    const c = { ...DEFAULT_PLATE_DETECTOR, stride: 8 as const };
    const d = plateFlops(c) - plateFlops(DEFAULT_PLATE_DETECTOR);
    // Layers 4, 5 and the head now run at 16 × 16 instead of 8 × 8 (4× the positions); layer 3 no longer pools into them.
    expect(d).toBe(2 * 3 * (8 * 8 * 128 * (9 + 128) * 2 + 8 * 8 * 128 * 15));
  });
});
