import type { SolveAttrs, View } from '../backend.js';
import { buf } from './storage.js';

/**
 * Pixels of an H×W image in an order that respects the TL dependency (every pixel after all
 * pixels above-left of it). The wavefront order visits anti-diagonals h + w = d; the raster
 * order visits rows. Both are valid; reversed, both are valid for the transposed solve.
 */
export function solveOrder(H: number, W: number, algorithm: SolveAttrs['algorithm']): Array<[number, number]> {
  const order: Array<[number, number]> = [];
  if (algorithm === 'raster') {
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) order.push([h, w]);
  } else {
    for (let d = 0; d <= H + W - 2; d++)
      for (let h = Math.max(0, d - W + 1); h <= Math.min(d, H - 1); h++) order.push([h, d - h]);
  }
  return order;
}

/** Index of (c, h, w) of channel group g, image n, in the flipped frame the solve runs in. */
type At = (c: number, h: number, w: number) => number;

/**
 * Calls body once per channel group and image with the group's index map: the flips of docs/inverse.md §4
 * turn every corner into TL, so the solves below only ever see a TL-masked kernel.
 */
function forEachGroupImage(y: View, K: View, attrs: SolveAttrs, body: (g: number, at: At, dims: { H: number; W: number; Cg: number; k: number }) => void): void {
  const [N, C, H, W] = y.shape as [number, number, number, number];
  const Cg = C / attrs.groups, k = K.shape[2]!;
  for (let g = 0; g < attrs.groups; g++) {
    const fw = (attrs.flips[g]! & 1) !== 0, fh = (attrs.flips[g]! & 2) !== 0;
    const ph = (h: number) => (fh ? H - 1 - h : h), pw = (w: number) => (fw ? W - 1 - w : w);
    for (let n = 0; n < N; n++) body(g, (c, h, w) => ((n * C + g * Cg + c) * H + ph(h)) * W + pw(w), { H, W, Cg, k });
  }
}

/** x = F T⁻¹ F y per channel group (see the kernel contract in backend.ts). */
export function solve(inputs: readonly View[], out: View, attrs: SolveAttrs): void {
  const [y, kern] = inputs as [View, View];
  const Y = buf(y), Kw = buf(kern), X = buf(out);
  const [, , H, W] = y.shape as [number, number, number, number];
  const order = solveOrder(H, W, attrs.algorithm);
  forEachGroupImage(y, kern, attrs, (g, at, { Cg, k }) => {
    for (const [h, w] of order) {
      for (let c = 0; c < Cg; c++) {
        const row = g * Cg + c;
        let acc = Y[at(c, h, w)]!;
        for (let u = 0; u < k && h - u >= 0; u++)
          for (let v = 0; v < k && w - v >= 0; v++)
            for (let i = 0; i < Cg; i++) {
              if (u === 0 && v === 0 && i >= c) continue;
              acc -= Kw[((row * Cg + i) * k + k - 1 - u) * k + k - 1 - v]! * X[at(i, h - u, w - v)]!;
            }
        X[at(c, h, w)] = attrs.unitDiag ? acc : acc / Kw[((row * Cg + c) * k + k - 1) * k + k - 1]!;
      }
    }
  });
}

/** gy = F T⁻ᵀ F g per channel group: the reverse sweep with the transposed kernel. */
export function solveTranspose(inputs: readonly View[], out: View, attrs: SolveAttrs): void {
  const [g0, kern] = inputs as [View, View];
  const G = buf(g0), Kw = buf(kern), GY = buf(out);
  const [, , H, W] = g0.shape as [number, number, number, number];
  const order = solveOrder(H, W, attrs.algorithm).reverse();
  forEachGroupImage(g0, kern, attrs, (g, at, { Cg, k }) => {
    for (const [h, w] of order) {
      for (let c = Cg - 1; c >= 0; c--) {
        let acc = G[at(c, h, w)]!;
        for (let u = 0; u < k && h + u < H; u++)
          for (let v = 0; v < k && w + v < W; v++)
            for (let o = 0; o < Cg; o++) {
              if (u === 0 && v === 0 && o <= c) continue;
              acc -= Kw[(((g * Cg + o) * Cg + c) * k + k - 1 - u) * k + k - 1 - v]! * GY[at(o, h + u, w + v)]!;
            }
        GY[at(c, h, w)] = attrs.unitDiag ? acc : acc / Kw[(((g * Cg + c) * Cg + c) * k + k - 1) * k + k - 1]!;
      }
    }
  });
}
