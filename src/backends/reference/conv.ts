import type { KernelAttrs, View } from '../backend.js';
import { buf } from './storage.js';

interface ConvGeometry {
  N: number; Ci: number; H: number; W: number; Co: number; kh: number; kw: number;
  Ho: number; Wo: number; Cig: number; Cog: number; top: number; left: number;
}

function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[],
  attrs: { pad: { top: number; left: number }; groups: number }): ConvGeometry {
  const [N, Ci, H, W] = xShape as [number, number, number, number];
  const [Co, Cig, kh, kw] = wShape as [number, number, number, number];
  const [, , Ho, Wo] = yShape as [number, number, number, number];
  return { N, Ci, H, W, Co, kh, kw, Ho, Wo, Cig, Cog: Co / attrs.groups, top: attrs.pad.top, left: attrs.pad.left };
}

/** Calls visit(xIndex, wIndex, yIndex) for every multiply-add of the convolution. */
function forEachTap(g: ConvGeometry, visit: (xi: number, wi: number, yi: number) => void): void {
  const { N, Ci, H, W, Co, kh, kw, Ho, Wo, Cig, Cog, top, left } = g;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < Co; o++) {
      const grp = Math.floor(o / Cog);
      for (let i = 0; i < Cig; i++) {
        const xc = grp * Cig + i;
        for (let a = 0; a < kh; a++) {
          for (let b = 0; b < kw; b++) {
            const wi = ((o * Cig + i) * kh + a) * kw + b;
            for (let p = 0; p < Ho; p++) {
              const h = p + a - top;
              if (h < 0 || h >= H) continue;
              for (let q = 0; q < Wo; q++) {
                const w = q + b - left;
                if (w < 0 || w >= W) continue;
                visit(((n * Ci + xc) * H + h) * W + w, wi, ((n * Co + o) * Ho + p) * Wo + q);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2d(inputs: readonly View[], out: View, attrs: KernelAttrs['conv2d']): void {
  const [x, w, bias] = inputs as [View, View, View | undefined];
  const X = buf(x), Wt = buf(w), Y = buf(out);
  const g = geometry(x.shape, w.shape, out.shape, attrs);
  const plane = g.Ho * g.Wo;
  for (let n = 0; n < g.N; n++)
    for (let o = 0; o < g.Co; o++) Y.fill(attrs.hasBias && bias ? buf(bias)[o]! : 0, (n * g.Co + o) * plane, (n * g.Co + o + 1) * plane);
  forEachTap(g, (xi, wi, yi) => { Y[yi]! += Wt[wi]! * X[xi]!; });
}

export function conv2dGradInput(inputs: readonly View[], out: View, attrs: KernelAttrs['conv2dGradInput']): void {
  const [dy, w] = inputs as [View, View];
  const DY = buf(dy), Wt = buf(w), DX = buf(out);
  DX.fill(0);
  forEachTap(geometry(out.shape, w.shape, dy.shape, attrs), (xi, wi, yi) => { DX[xi]! += Wt[wi]! * DY[yi]!; });
}

export function conv2dGradFilter(inputs: readonly View[], out: View, attrs: KernelAttrs['conv2dGradFilter']): void {
  const [x, dy] = inputs as [View, View];
  const X = buf(x), DY = buf(dy), DW = buf(out);
  DW.fill(0);
  forEachTap(geometry(x.shape, out.shape, dy.shape, attrs), (xi, wi, yi) => { DW[wi]! += X[xi]! * DY[yi]!; });
}
