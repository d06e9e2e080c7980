import type { Pad4, View } from '../backends/backend.js';
import { buf } from '../backends/reference/storage.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel, type WasmContext } from '../engine/kernel.js';
import { reshape } from '../engine/views.js';
import type { Tensor } from '../engine/tensor.js';
import { sum } from './reduce.js';
import { checkImage } from './util/checks.js';
import { ceil4, withScratch } from './util/scratch.js';

/**
 * 2-D cross-correlation (NCHW) with stride, dilation, groups and explicit asymmetric zero padding,
 * its two adjoints, and the transposed convolution, which is the input adjoint plus a bias.
 * The math and how the wasm kernels map it: docs/ops/conv2d.md.
 *
 *   y[n,o,p,q] = bias[o] + Σ_{i,a,b} w[o,i,a,b] · x[n, g·Cig + i, p·sh + a·dh − top, q·sw + b·dw − left]
 *   Ho = floor((H + top + bottom − dh·(kh−1) − 1) / sh) + 1, likewise Wo; g = floor(o / Cog).
 */

// ---- attributes and validation ---------------------------------------------------------------

type Pair = number | readonly [number, number];

/**
 * Padding of a convolution: a number (all sides), [left, right, top, bottom], a Pad4, 'valid'
 * (none), 'same' or a corner. 'same' pads the dilated kernel extent e = d·(k−1)+1 minus 1 at
 * stride 1 (the extra pixel of an even extent goes right/bottom); at stride s it pads, as
 * TensorFlow, max((ceil(H/s) − 1)·s + e − H, 0) in total, so Ho = ceil(H/s). A corner
 * 'tl' | 'tr' | 'bl' | 'br' pads e − 1 on the named sides (docs/flows.md §3).
 */
export type Padding = number | readonly [number, number, number, number] | Pad4 | 'valid' | 'same' | 'tl' | 'tr' | 'bl' | 'br';

/** The geometry every conv kernel takes; the shapes come with the views. */
export interface ConvGeometry {
  readonly pad: Pad4;
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/** conv2d, and conv2dGradInput when it is a transposed convolution: bias is a third input. */
export interface ConvBiasAttrs extends ConvGeometry { readonly hasBias: boolean }

export interface ConvOptions {
  bias?: Tensor;
  pad?: Padding;
  /** Default 1: one number for both axes or [sh, sw]. */
  stride?: Pair;
  /** Default 1: one number for both axes or [dh, dw]. */
  dilation?: Pair;
  groups?: number;
}

/** The geometry of the convolution an adjoint belongs to (stride and dilation default to 1). */
export interface ConvGradOptions {
  pad: Padding;
  groups?: number;
  stride?: Pair;
  dilation?: Pair;
}

export interface ConvTransposeOptions {
  bias?: Tensor;
  /** Default 1. */
  stride?: Pair;
  /**
   * The padding of the conv2d this is the adjoint of (any Padding form): it crops the output.
   * 'same' resolves against a conv2d input of H·sh × W·sw, so the output is H·sh × W·sw when
   * the dilated kernel extent is at least the stride (as TensorFlow's conv2dTranspose).
   */
  padding?: Padding;
  /** Extra rows/columns at the bottom/right, each smaller than the stride (default 0). */
  outputPadding?: Pair;
  /** Default 1. */
  dilation?: Pair;
  groups?: number;
}

function pair(op: string, name: string, v: Pair | undefined, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [min === 0 ? 0 : 1, min === 0 ? 0 : 1] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min))
    fail(op, `${name} = ${JSON.stringify(v)} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or a pair of them`);
  return p;
}

/**
 * Resolves a Padding for a kernel of extent kh × kw (the dilated extent d·(k−1)+1). `input` is
 * needed only for 'same' at stride > 1. Every side must be smaller than the extent: a wider pad
 * adds output rows or columns that see only zeros. PyTorch allows that; here it has only ever come
 * from a mistaken corner or 'same', so it is refused (pad the input explicitly if it is wanted).
 */
export function resolvePadding(op: string, pad: Padding | undefined, kh: number, kw: number,
  input?: { H: number; W: number; stride: readonly [number, number]; dilated?: boolean }): Pad4 {
  let p: Pad4;
  if (pad === undefined || pad === 'valid') p = { left: 0, right: 0, top: 0, bottom: 0 };
  else if (pad === 'same') {
    const total = (n: number, k: number, s: number): number => (s === 1 ? k - 1 : Math.max(0, (Math.ceil(n / s) - 1) * s + k - n));
    const h = total(input?.H ?? 0, kh, input?.stride[0] ?? 1), w = total(input?.W ?? 0, kw, input?.stride[1] ?? 1);
    p = { left: w >> 1, right: w - (w >> 1), top: h >> 1, bottom: h - (h >> 1) };
  } else if (pad === 'tl') p = { left: kw - 1, right: 0, top: kh - 1, bottom: 0 };
  else if (pad === 'tr') p = { left: 0, right: kw - 1, top: kh - 1, bottom: 0 };
  else if (pad === 'bl') p = { left: kw - 1, right: 0, top: 0, bottom: kh - 1 };
  else if (pad === 'br') p = { left: 0, right: kw - 1, top: 0, bottom: kh - 1 };
  else if (typeof pad === 'number') p = { left: pad, right: pad, top: pad, bottom: pad };
  else if (Array.isArray(pad)) p = { left: pad[0]!, right: pad[1]!, top: pad[2]!, bottom: pad[3]! };
  else if (typeof pad === 'object' && pad !== null) p = pad as Pad4;
  else fail(op, `unsupported padding ${JSON.stringify(pad)}`);
  const { left, right, top, bottom } = p;
  for (const [side, v] of Object.entries({ left, right, top, bottom }))
    if (!Number.isInteger(v) || v < 0) fail(op, `padding ${side} = ${v}: paddings are non-negative integers`);
  if (left >= kw || right >= kw || top >= kh || bottom >= kh)
    fail(op, `padding ${JSON.stringify({ left, right, top, bottom })} is not smaller than the ${kh}×${kw} kernel` +
      `${input?.dilated ? ' extent (dilated)' : ''} (a padded row or column would see only zeros)`);
  return { left, right, top, bottom };
}

interface Resolved { attrs: ConvGeometry; outShape: [number, number, number, number] }

/** Validates a conv2d of input xShape with weight wShape and returns its geometry and output shape. */
function geometry(op: string, xShape: readonly number[], wShape: readonly number[],
  o: { pad?: Padding; stride?: Pair; dilation?: Pair; groups?: number }): Resolved {
  if (xShape.length !== 4) fail(op, `input must be rank 4 [N, C, H, W], got ${shapeStr(xShape)}`);
  if (wShape.length !== 4) fail(op, `weight must be rank 4 [Cout, Cin/groups, kh, kw], got ${shapeStr(wShape)}`);
  const [N, Ci, H, W] = xShape as [number, number, number, number];
  const [Co, Cig, kh, kw] = wShape as [number, number, number, number];
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail(op, `groups = ${groups} must be a positive integer`);
  if (Ci % groups !== 0 || Co % groups !== 0)
    fail(op, `groups = ${groups} must divide input channels ${Ci} and output channels ${Co} ` +
      `(input ${shapeStr(xShape)}, weight ${shapeStr(wShape)})`);
  if (Cig !== Ci / groups)
    fail(op, `weight ${shapeStr(wShape)} expects ${Cig * groups} input channels but input ${shapeStr(xShape)} has ${Ci}`);
  const stride = pair(op, 'stride', o.stride, 1), dilation = pair(op, 'dilation', o.dilation, 1);
  const ekh = dilation[0] * (kh - 1) + 1, ekw = dilation[1] * (kw - 1) + 1;
  const dilated = ekh !== kh || ekw !== kw;
  const pad = resolvePadding(op, o.pad, ekh, ekw, { H, W, stride, dilated });
  const Hp = H + pad.top + pad.bottom, Wp = W + pad.left + pad.right;
  if (Hp < ekh || Wp < ekw)
    fail(op, `kernel ${kh}×${kw}${dilated ? ` (dilated extent ${ekh}×${ekw})` : ''} is larger than the padded input ${shapeStr(xShape)}`);
  const Ho = Math.floor((Hp - ekh) / stride[0]) + 1, Wo = Math.floor((Wp - ekw) / stride[1]) + 1;
  return { attrs: { pad, stride, dilation, groups }, outShape: [N, Co, Ho, Wo] };
}

function checkBias(op: string, bias: Tensor, C: number, w: Tensor): void {
  bias.assertLive(op);
  if (bias.rank !== 1 || bias.shape[0] !== C) fail(op, `bias ${shapeStr(bias.shape)} must be [${C}] for weight ${shapeStr(w.shape)}`);
}

const biasGrad = (dy: Tensor, C: number): Tensor => reshape(sum(dy, [0, 2, 3]), [C]);

// ---- shapes seen by the kernels ----------------------------------------------------------------

interface Dims {
  N: number; Ci: number; H: number; W: number; Co: number; Cig: number; Cog: number; kh: number; kw: number;
  Ho: number; Wo: number; G: number; top: number; left: number; bottom: number; right: number;
  sh: number; sw: number; dh: number; dw: number;
}

function dims(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[], a: ConvGeometry): Dims {
  const [N, Ci, H, W] = xShape as [number, number, number, number];
  const [Co, Cig, kh, kw] = wShape as [number, number, number, number];
  const [, , Ho, Wo] = yShape as [number, number, number, number];
  const { top, left, bottom, right } = a.pad;
  return {
    N, Ci, H, W, Co, Cig, Cog: Co / a.groups, kh, kw, Ho, Wo, G: a.groups, top, left, bottom, right,
    sh: a.stride[0], sw: a.stride[1], dh: a.dilation[0], dw: a.dilation[1],
  };
}

// ---- float64 reference ---------------------------------------------------------------------------

/** Calls visit(xIndex, wIndex, yIndex) for every multiply-add of the convolution. */
function forEachTap(d: Dims, visit: (xi: number, wi: number, yi: number) => void): void {
  const { N, Ci, H, W, Co, kh, kw, Ho, Wo, Cig, Cog, top, left, sh, sw, dh, dw } = d;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Co; o++) {
      const xc0 = Math.floor(o / Cog) * Cig;
      for (let i = 0; i < Cig; i++)
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const wi = ((o * Cig + i) * kh + a) * kw + b;
            const xb = (n * Ci + xc0 + i) * H;
            for (let p = 0; p < Ho; p++) {
              const h = p * sh + a * dh - top;
              if (h < 0 || h >= H) continue;
              for (let q = 0; q < Wo; q++) {
                const w = q * sw + b * dw - left;
                if (w < 0 || w >= W) continue;
                visit((xb + h) * W + w, wi, ((n * Co + o) * Ho + p) * Wo + q);
              }
            }
          }
    }
}

/** Fills each C-channel plane of `out` (shape [N, C, …]) with bias[c], or zero. */
function fillBias(out: View, bias: View | undefined): void {
  const Y = buf(out);
  const [N, C] = out.shape as [number, number];
  const plane = Y.length / (N * C);
  const B = bias ? buf(bias) : null;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) Y.fill(B ? B[c]! : 0, (n * C + c) * plane, (n * C + c + 1) * plane);
}

// ---- wasm: contracts and planning -----------------------------------------------------------------

const packWeights = wasmExport('convPackWeights', {
  w: 'ptr', dst: 'ptr', G: 'i32', rows: 'i32', cols: 'i32', ntaps: 'i32', taps: 'ptr', gs: 'i32', rs: 'i32', cs: 'i32',
});
const packInput = wasmExport('convPackInput', {
  src: 'ptr', dst: 'ptr', planes: 'i32', H: 'i32', W: 'i32', top: 'i32', left: 'i32', sh: 'i32', sw: 'i32',
  Hq: 'i32', Wq: 'i32', pps: 'i32', ps: 'i32',
});
const gemm = wasmExport('convGemm', {
  x: 'ptr', H: 'i32', W: 'i32', pack: 'i32', top: 'i32', left: 'i32', sh: 'i32', sw: 'i32',
  Hq: 'i32', Wq: 'i32', pps: 'i32', ps: 'i32', wpk: 'ptr', offs: 'ptr', phases: 'ptr', nph: 'i32',
  y: 'ptr', Ho: 'i32', Wo: 'i32', osh: 'i32', osw: 'i32', bias: 'ptr', scratch: 'ptr', tileF: 'i32',
  N: 'i32', G: 'i32', cols: 'i32', rows: 'i32', chunk: 'i32',
});
const depthwise3x3 = wasmExport('convDepthwise3x3', {
  x: 'ptr', w: 'ptr', bias: 'ptr', y: 'ptr', N: 'i32', G: 'i32', rows: 'i32', H: 'i32', W: 'i32', rowsPerTask: 'i32',
});
const gradFilterExport = wasmExport('convGradFilter', {
  xp: 'ptr', xps: 'i32', dyp: 'ptr', dyps: 'i32', offs: 'ptr', K: 'i32', dw: 'ptr', N: 'i32', G: 'i32',
  cols: 'i32', rows: 'i32', L4: 'i32',
});

const ceil16 = (n: number): number => Math.ceil(n / 16) * 16;
/** Integer offsets table entries per phase of convGemm (assembly/conv2d.ts). */
const PHASE_INTS = 8;

/**
 * Row stride of a padded, flattened stride-1 image. A row's right padding and the next row's left
 * padding are both zeros, so they can share columns: reads past the row end land in the next
 * row's left zeros. Sharing m = min(left, right, e − 1) columns (e the dilated kernel width) keeps
 * Wo ≤ Wq and saves m wasted output columns per row (7×7 with pad 1: 8 instead of 9).
 */
function paddedWidth(W: number, left: number, right: number, e: number): number {
  const m = left >= 0 && right >= 0 ? Math.min(left, right, e - 1) : 0;
  return W + left + right - m;
}

/**
 * The source image as convGemm and convGradFilter read it: zero-padded and, for stride s > 1,
 * split into s_h·s_w phase planes (phase (ph, pw) holds rows ph, ph + s_h, … and columns
 * pw, pw + s_w, … of the padded image), so that every tap of a strided convolution becomes a
 * constant offset into one plane and consecutive outputs read consecutive floats (docs/ops/conv2d.md).
 */
interface Source {
  /** 0: read the input in place (no padding, stride 1); 1: pack it. */
  pack: number;
  top: number; left: number; sh: number; sw: number;
  Hq: number; Wq: number;
  /** Floats per phase plane and per channel (sh·sw planes). */
  pps: number; ps: number;
}

/** One output phase of convGemm: the outputs (i·osh + ry, j·osw + rx) for i < Hr, j < Wr. */
interface Phase {
  /** Tap indices a·kw + b into the weight, in K order. */
  taps: number[];
  /** Per tap: its phase plane (ph·sw + pw) and its row and column offset inside that plane. */
  plane: number[];
  row: number[];
  col: number[];
  Hr: number; Wr: number; ry: number; rx: number;
}

interface GemmJob {
  x: number; H: number; W: number; N: number; G: number; cols: number; rows: number;
  /** Weight element (g, r, c, tap) = w[g·gs + r·rs + c·cs + tap]. */
  w: number; gs: number; rs: number; cs: number;
  y: number; Ho: number; Wo: number; osh: number; osw: number; bias: number;
}

/** Sets the plane strides from the largest read: a tile of ceil16(Hr·Wq) positions plus the tap offset. */
function finishSource(src: Omit<Source, 'pps' | 'ps'>, phases: readonly Phase[], inPlace: { H: number; W: number } | null): Source {
  if (inPlace) return { ...src, pps: inPlace.H * inPlace.W, ps: inPlace.H * inPlace.W };
  let maxRead = 0;
  for (const ph of phases)
    for (let t = 0; t < ph.taps.length; t++)
      maxRead = Math.max(maxRead, ceil16(ph.Hr * src.Wq) + ph.row[t]! * src.Wq + ph.col[t]!);
  const pps = ceil4(Math.max(src.Hq * src.Wq + 4, maxRead + 1));
  return { ...src, pps, ps: pps * src.sh * src.sw };
}

/** Forward convolution (stride 1: padded plane, shared columns; stride > 1: phase planes). */
function forwardPlan(d: Dims): { src: Source; phases: Phase[] } {
  const { H, W, kh, kw, Ho, Wo, top, left, bottom, right, sh, sw, dh, dw } = d;
  const ekw = dw * (kw - 1) + 1;
  const taps: number[] = [], plane: number[] = [], row: number[] = [], col: number[] = [];
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++) {
      taps.push(a * kw + b);
      plane.push(((a * dh) % sh) * sw + ((b * dw) % sw));
      row.push(Math.floor((a * dh) / sh));
      col.push(Math.floor((b * dw) / sw));
    }
  const phases = [{ taps, plane, row, col, Hr: Ho, Wr: Wo, ry: 0, rx: 0 }];
  if (sh === 1 && sw === 1) {
    const padded = top !== 0 || left !== 0 || bottom !== 0 || right !== 0;
    const Wq = padded ? paddedWidth(W, left, right, ekw) : W;
    const src = { pack: padded ? 1 : 0, top, left, sh: 1, sw: 1, Hq: H + top + bottom, Wq };
    return { src: finishSource(src, phases, padded ? null : { H, W }), phases };
  }
  const Hq = Ho + Math.floor((dh * (kh - 1)) / sh), Wq = Wo + Math.floor((dw * (kw - 1)) / sw);
  return { src: finishSource({ pack: 1, top, left, sh, sw, Hq, Wq }, phases, null), phases };
}

/**
 * The input adjoint. At stride 1 it is the forward convolution of dy with the flipped kernel and
 * the complementary padding e − 1 − pad. At stride s, output row h = i·s + r (phase r) receives
 * the taps a with (r + top − a·dh) ≡ 0 (mod s), each reading dy row i + (r + top − a·dh)/s: a
 * stride-1 correlation per phase with a subset of the taps, so no zero is ever multiplied.
 */
function gradInputPlan(d: Dims): { src: Source; phases: Phase[]; osh: number; osw: number } {
  const { H, W, kh, kw, Ho, Wo, top, left, bottom, right, sh, sw, dh, dw } = d;
  const ekh = dh * (kh - 1) + 1, ekw = dw * (kw - 1) + 1;
  if (sh === 1 && sw === 1) {
    const fd: Dims = {
      ...d, H: Ho, W: Wo, Ho: H, Wo: W,
      top: ekh - 1 - top, left: ekw - 1 - left, bottom: ekh - 1 - bottom, right: ekw - 1 - right,
    };
    const plan = forwardPlan(fd);
    const flipped = plan.phases[0]!;
    flipped.taps = flipped.taps.map((t) => kh * kw - 1 - t);
    return { ...plan, osh: 1, osw: 1 };
  }
  // Per axis and residue r: the taps that land on outputs ≡ r and the dy offset each reads.
  const axis = (s: number, k: number, dil: number, pad: number, out: number) =>
    Array.from({ length: s }, (_, r) => {
      const taps: number[] = [], delta: number[] = [];
      for (let a = 0; a < k; a++) {
        const t = r + pad - a * dil;
        if (((t % s) + s) % s === 0) { taps.push(a); delta.push(t / s); }
      }
      return { r, taps, delta, n: Math.max(0, Math.ceil((out - r) / s)) };
    }).filter((p) => p.n > 0);
  const rowsOf = axis(sh, kh, dh, top, H), colsOf = axis(sw, kw, dw, left, W);
  const lead = (ps: ReturnType<typeof axis>) => Math.max(0, ...ps.filter((p) => p.taps.length).map((p) => -Math.min(...p.delta)));
  const T = lead(rowsOf), L = lead(colsOf);
  const extent = (ps: ReturnType<typeof axis>, lead: number) =>
    Math.max(1, ...ps.filter((p) => p.taps.length).map((p) => p.n + Math.max(...p.delta) + lead));
  const Hq = extent(rowsOf, T), Wq = extent(colsOf, L);
  const phases: Phase[] = [];
  for (const pr of rowsOf)
    for (const pc of colsOf) {
      const ph: Phase = { taps: [], plane: [], row: [], col: [], Hr: pr.n, Wr: pc.n, ry: pr.r, rx: pc.r };
      pr.taps.forEach((a, ia) => pc.taps.forEach((b, ib) => {
        ph.taps.push(a * kw + b);
        ph.plane.push(0);
        ph.row.push(pr.delta[ia]! + T);
        ph.col.push(pc.delta[ib]! + L);
      }));
      phases.push(ph);
    }
  return { src: finishSource({ pack: 1, top: T, left: L, sh: 1, sw: 1, Hq, Wq }, phases, null), phases, osh: sh, osw: sw };
}

/**
 * K steps per chunk of convGemm: enough input planes to fill about 16 KiB (half of a small L1),
 * so they stay cached while every tile of the image passes over them; at least 64 steps so the
 * accumulator reloads between chunks stay cheap. Chunking never changes a sum's order.
 */
function kChunk(ps: number, taps: number, K: number): number {
  const planes = Math.max(1, Math.floor(16384 / (ps * 4)));
  return Math.max(1, Math.min(K, Math.max(64, planes * taps)));
}

/** Packs the weights and offsets of every phase, then runs convGemm. */
function runGemm(ctx: WasmContext, j: GemmJob, src: Source, phases: readonly Phase[]): void {
  const rb = Math.ceil(j.rows / 4);
  const Ks = phases.map((p) => j.cols * p.taps.length);
  const Ktotal = Ks.reduce((a, b) => a + b, 0);
  const maxTaps = Math.max(1, ...phases.map((p) => p.taps.length));
  const tileF = 4 * ceil16(Math.max(...phases.map((p) => p.Hr)) * src.Wq);
  const perThread = tileF + (src.pack ? j.cols * src.ps : 0);
  const table: number[] = [], offs: number[] = [];
  let kBase = 0, flops = 0;
  phases.forEach((p, i) => {
    table.push(Ks[i]!, kBase, p.Hr, p.Wr, p.ry, p.rx, 0, 0);
    for (let c = 0; c < j.cols; c++)
      for (let t = 0; t < p.taps.length; t++) offs.push(c * src.ps + p.plane[t]! * src.pps + p.row[t]! * src.Wq + p.col[t]!);
    kBase += Ks[i]!;
    flops += 2 * j.N * j.G * rb * 4 * Ks[i]! * ceil16(p.Hr * src.Wq);
  });
  withScratch(ctx, [j.G * rb * 4 * Math.max(1, Ktotal), Math.max(1, Ktotal), table.length, maxTaps, ctx.threads * perThread],
    ([wpk, offsPtr, tablePtr, tapsPtr, scratch]) => {
      ctx.writeInts(offsPtr!, offs);
      ctx.writeInts(tablePtr!, table);
      phases.forEach((p, i) => {
        if (p.taps.length === 0) return;
        ctx.writeInts(tapsPtr!, p.taps);
        const base = wpk! + 16 * j.G * rb * (table[i * PHASE_INTS + 1]!);
        ctx.call(packWeights, {
          w: j.w, dst: base, G: j.G, rows: j.rows, cols: j.cols, ntaps: p.taps.length, taps: tapsPtr!, gs: j.gs, rs: j.rs, cs: j.cs,
        }, j.G * rb * 4 * Ks[i]!);
      });
      ctx.call(gemm, {
        x: j.x, H: j.H, W: j.W, pack: src.pack, top: src.top, left: src.left, sh: src.sh, sw: src.sw,
        Hq: src.Hq, Wq: src.Wq, pps: src.pps, ps: src.ps, wpk: wpk!, offs: offsPtr!, phases: tablePtr!, nph: phases.length,
        y: j.y, Ho: j.Ho, Wo: j.Wo, osh: j.osh, osw: j.osw, bias: j.bias, scratch: scratch!, tileF,
        N: j.N, G: j.G, cols: j.cols, rows: j.rows, chunk: kChunk(src.ps, maxTaps, j.cols * maxTaps),
      }, flops);
    });
}

/**
 * Depthwise (one input channel per group) 3×3 at stride 1, dilation 1 and padding 1: the
 * commonest depthwise conv, run by convDepthwise3x3 without a packed copy (docs/ops/conv2d.md §4).
 */
function isDepthwise3x3(d: Dims): boolean {
  return d.Cig === 1 && d.kh === 3 && d.kw === 3 && d.sh === 1 && d.sw === 1 && d.dh === 1 && d.dw === 1 &&
    d.top === 1 && d.left === 1 && d.bottom === 1 && d.right === 1;
}

/** Bytes of wasm memory a conv's operands occupy; its scratch holds padded copies of about the same size. */
function wasmSupports(inputs: readonly View[], out: View): string | null {
  const total = [out, ...inputs].reduce((a, v) => a + v.storage.numel, 0);
  // Padded copies of the input are made as scratch: they must fit beside the operands (wasm32).
  if (total * 4 * 3 > 2 ** 31 - 2 ** 20) return 'operands plus padded scratch exceed wasm32 memory';
  return null;
}

// ---- WebGPU contracts ------------------------------------------------------------------------------

const geometryFields = {
  Ci: 'u32', H: 'u32', W: 'u32', Co: 'u32', Ho: 'u32', Wo: 'u32', kh: 'u32', kw: 'u32', Cig: 'u32', Cog: 'u32',
  top: 'i32', left: 'i32', sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32',
} as const;
const wgslConv = wgslKernel('conv2d', { n: 'u32', ...geometryFields, hasBias: 'u32' });
const wgslGradInput = wgslKernel('conv2dGradInput', { n: 'u32', ...geometryFields, stepH: 'u32', stepW: 'u32', hasBias: 'u32' });
const wgslGradFilter = wgslKernel('conv2dGradFilter', { nOut: 'u32', N: 'u32', ...geometryFields });

const gpuGeometry = (d: Dims) => ({
  Ci: d.Ci, H: d.H, W: d.W, Co: d.Co, Ho: d.Ho, Wo: d.Wo, kh: d.kh, kw: d.kw, Cig: d.Cig, Cog: d.Cog,
  top: d.top, left: d.left, sh: d.sh, sw: d.sw, dh: d.dh, dw: d.dw,
});
const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

// ---- kernels ---------------------------------------------------------------------------------------

/** y = conv(x, w) + bias. Inputs [x (N,Ci,H,W), w (Co,Ci/groups,kh,kw), bias? (Co)]. */
export const conv2dKernel = defineKernel<ConvBiasAttrs>({
  name: 'conv2d',
  reference(inputs, out, attrs) {
    const [x, w, bias] = inputs as [View, View, View | undefined];
    const X = buf(x), Wt = buf(w), Y = buf(out);
    fillBias(out, attrs.hasBias ? bias : undefined);
    forEachTap(dims(x.shape, w.shape, out.shape, attrs), (xi, wi, yi) => { Y[yi]! += Wt[wi]! * X[xi]!; });
  },
  wasm: {
    exports: [packWeights, gemm, depthwise3x3],
    supports: wasmSupports,
    run(ctx, inputs, out, attrs) {
      const [x, w, bias] = inputs as [View, View, View | undefined];
      const d = dims(x.shape, w.shape, out.shape, attrs);
      const biasPtr = attrs.hasBias && bias ? ctx.ptr(bias.storage) : 0;
      if (isDepthwise3x3(d)) {
        // Blocks of about 4096 outputs: whole planes up to 64×64, enough tasks for the threads beyond.
        const rowsPerTask = Math.max(1, Math.min(d.H, Math.floor(4096 / d.W)));
        ctx.call(depthwise3x3, {
          x: ctx.ptr(x.storage), w: ctx.ptr(w.storage), bias: biasPtr, y: ctx.ptr(out.storage),
          N: d.N, G: d.G, rows: d.Cog, H: d.H, W: d.W, rowsPerTask,
        }, 18 * d.N * d.Co * d.H * d.W);
        return;
      }
      const taps = d.kh * d.kw;
      const { src, phases } = forwardPlan(d);
      runGemm(ctx, {
        x: ctx.ptr(x.storage), H: d.H, W: d.W, N: d.N, G: d.G, cols: d.Cig, rows: d.Cog,
        w: ctx.ptr(w.storage), gs: d.Cog * d.Cig * taps, rs: d.Cig * taps, cs: taps,
        y: ctx.ptr(out.storage), Ho: d.Ho, Wo: d.Wo, osh: 1, osw: 1, bias: biasPtr,
      }, src, phases);
    },
  },
  webgpu: {
    kernels: [wgslConv],
    run(ctx, inputs, out, attrs) {
      const [x, w, bias] = inputs as [View, View, View | undefined];
      const n = numel(out.shape);
      if (n === 0) return;
      const hasBias = attrs.hasBias && bias !== undefined;
      const d = dims(x.shape, w.shape, out.shape, attrs);
      // One invocation per output pixel and 4 output channels of a group (wgsl/conv2d.wgsl).
      const inv = d.N * d.G * Math.ceil(d.Cog / 4) * d.Ho * d.Wo;
      ctx.dispatch(wgslConv, [{
        params: { n: inv, ...gpuGeometry(d), hasBias: +hasBias },
        bindings: [x.storage, w.storage, (hasBias ? bias : w).storage, out.storage],
        workgroups: Math.ceil(inv / 64),
      }]);
    },
  },
});

/**
 * dx = the adjoint of conv2d in x, plus an optional per-channel bias (the transposed convolution).
 * Inputs [dy (N,Co,Ho,Wo), w (Co,Ci/groups,kh,kw), bias? (Ci)] → dx (N,Ci,H,W).
 */
export const conv2dGradInputKernel = defineKernel<ConvBiasAttrs>({
  name: 'conv2dGradInput',
  reference(inputs, out, attrs) {
    const [dy, w, bias] = inputs as [View, View, View | undefined];
    const DY = buf(dy), Wt = buf(w), DX = buf(out);
    fillBias(out, attrs.hasBias ? bias : undefined);
    forEachTap(dims(out.shape, w.shape, dy.shape, attrs), (xi, wi, yi) => { DX[xi]! += Wt[wi]! * DY[yi]!; });
  },
  wasm: {
    exports: [packWeights, gemm],
    supports: wasmSupports,
    run(ctx, inputs, out, attrs) {
      const [dy, w, bias] = inputs as [View, View, View | undefined];
      const d = dims(out.shape, w.shape, dy.shape, attrs);
      const taps = d.kh * d.kw;
      const { src, phases, osh, osw } = gradInputPlan(d);
      // The GEMM's rows are dx channels (Cig per group), its columns dy channels (Cog per group).
      runGemm(ctx, {
        x: ctx.ptr(dy.storage), H: d.Ho, W: d.Wo, N: d.N, G: d.G, cols: d.Cog, rows: d.Cig,
        w: ctx.ptr(w.storage), gs: d.Cog * d.Cig * taps, rs: taps, cs: d.Cig * taps,
        y: ctx.ptr(out.storage), Ho: d.H, Wo: d.W, osh, osw,
        bias: attrs.hasBias && bias ? ctx.ptr(bias.storage) : 0,
      }, src, phases);
    },
  },
  webgpu: {
    kernels: [wgslGradInput],
    run(ctx, inputs, out, attrs) {
      const [dy, w, bias] = inputs as [View, View, View | undefined];
      const n = numel(out.shape);
      if (n === 0) return;
      const hasBias = attrs.hasBias && bias !== undefined;
      const d = dims(out.shape, w.shape, dy.shape, attrs);
      // Taps of one residue class mod the stride are s / gcd(s, d) apart (wgsl/conv2d.wgsl).
      const stepH = d.sh / gcd(d.sh, d.dh), stepW = d.sw / gcd(d.sw, d.dw);
      // One invocation per dx pixel and 4 channels of a group.
      const inv = d.N * d.G * Math.ceil(d.Cig / 4) * d.H * d.W;
      ctx.dispatch(wgslGradInput, [{
        params: { n: inv, ...gpuGeometry(d), stepH, stepW, hasBias: +hasBias },
        bindings: [dy.storage, w.storage, (hasBias ? bias : w).storage, out.storage],
        workgroups: Math.ceil(inv / 64),
      }]);
    },
  },
});

/** dw = the adjoint of conv2d in w. Inputs [x (N,Ci,H,W), dy (N,Co,Ho,Wo)] → dw (Co,Ci/groups,kh,kw). */
export const conv2dGradFilterKernel = defineKernel<ConvGeometry>({
  name: 'conv2dGradFilter',
  reference(inputs, out, attrs) {
    const [x, dy] = inputs as [View, View];
    const X = buf(x), DY = buf(dy), DW = buf(out);
    DW.fill(0);
    forEachTap(dims(x.shape, out.shape, dy.shape, attrs), (xi, wi, yi) => { DW[wi]! += X[xi]! * DY[yi]!; });
  },
  wasm: {
    exports: [packInput, gradFilterExport],
    supports: wasmSupports,
    run(ctx, inputs, out, attrs) {
      // dw[o,c,t] = Σ_n Σ_s dyp[n,o,s] · xp[n,c,s + off(t)]: dy embedded in the packed width Wq
      // with zero columns, so each tap is a dot product of two contiguous runs (docs/ops/conv2d.md).
      const [x, dy] = inputs as [View, View];
      const d = dims(x.shape, out.shape, dy.shape, attrs);
      const { src: fsrc, phases } = forwardPlan(d);
      const ph = phases[0]!;
      const L4 = ceil4(d.Ho * fsrc.Wq);
      let maxRead = 0;
      for (let t = 0; t < ph.taps.length; t++) maxRead = Math.max(maxRead, ph.row[t]! * fsrc.Wq + ph.col[t]! + L4);
      // The whole of x is packed up front (every thread reads every image); in place is not used.
      const { Hq, Wq } = fsrc;
      const pps = ceil4(Math.max(Hq * Wq + 4, maxRead + 1)), xps = pps * d.sh * d.sw;
      const dyps = L4 + 4; // slack lets the pack copy whole rows in f32x4 steps
      const offs: number[] = [];
      for (let c = 0; c < d.Cig; c++)
        for (let t = 0; t < ph.taps.length; t++) offs.push(c * xps + ph.plane[t]! * pps + ph.row[t]! * Wq + ph.col[t]!);
      const K = offs.length;
      const flops = 2 * d.N * d.Co * K * L4;
      withScratch(ctx, [d.N * d.Ci * xps, d.N * d.Co * dyps, K], ([xp, dyp, offsPtr]) => {
        ctx.writeInts(offsPtr!, offs);
        ctx.call(packInput, {
          src: ctx.ptr(x.storage), dst: xp!, planes: d.N * d.Ci, H: d.H, W: d.W, top: d.top, left: d.left, sh: d.sh, sw: d.sw,
          Hq, Wq, pps, ps: xps,
        }, d.N * d.Ci * xps);
        ctx.call(packInput, {
          src: ctx.ptr(dy.storage), dst: dyp!, planes: d.N * d.Co, H: d.Ho, W: d.Wo, top: 0, left: 0, sh: 1, sw: 1,
          Hq: d.Ho, Wq, pps: dyps, ps: dyps,
        }, d.N * d.Co * dyps);
        ctx.call(gradFilterExport, {
          xp: xp!, xps, dyp: dyp!, dyps, offs: offsPtr!, K, dw: ctx.ptr(out.storage), N: d.N, G: d.G, cols: d.Cig, rows: d.Cog, L4,
        }, flops);
      });
    },
  },
  webgpu: {
    kernels: [wgslGradFilter],
    run(ctx, inputs, out, attrs) {
      const [x, dy] = inputs as [View, View];
      if (numel(out.shape) === 0) return;
      const d = dims(x.shape, out.shape, dy.shape, attrs);
      // One invocation per weight tap and 4 output channels of a group.
      const inv = d.G * Math.ceil(d.Cog / 4) * d.Cig * d.kh * d.kw;
      ctx.dispatch(wgslGradFilter, [{
        params: { nOut: inv, N: d.N, ...gpuGeometry(d) },
        bindings: [x.storage, dy.storage, out.storage],
        workgroups: Math.ceil(inv / 64),
      }]);
    },
  },
});

export const kernels = [conv2dKernel, conv2dGradInputKernel, conv2dGradFilterKernel];

// ---- public functions ------------------------------------------------------------------------------

/**
 * 2-D cross-correlation (NCHW): x [N, Ci, H, W], w [Co, Ci/groups, kh, kw], optional bias [Co];
 * stride, dilation, groups (groups = Ci: depthwise, any channel multiplier Co/Ci) and any Padding.
 */
export function conv2d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  checkImage('conv2d', x);
  w.assertLive('conv2d');
  const { attrs, outShape } = geometry('conv2d', x.shape, w.shape, opts);
  const inputs = [x, w];
  if (opts.bias) {
    checkBias('conv2d', opts.bias, outShape[1], w);
    inputs.push(opts.bias);
  }
  const hasBias = !!opts.bias;
  return x.engine.run(conv2dKernel, {
    inputs, outShape, attrs: { ...attrs, hasBias },
    grad: (dy, [xin, win]) => [
      conv2dGradInput(dy, win!, xin!.shape, attrs),
      conv2dGradFilter(xin!, dy, win!.shape, attrs),
      ...(hasBias ? [biasGrad(dy, outShape[1])] : []),
    ],
  });
}

/** The geometry of the conv2d an adjoint belongs to, checking that dy is that conv's output. */
function adjointGeometry(op: string, live: readonly Tensor[], xShape: readonly number[], wShape: readonly number[],
  dy: Tensor, opts: ConvGradOptions): ConvGeometry {
  for (const t of live) t.assertLive(op);
  const { attrs, outShape } = geometry(op, xShape, wShape, opts);
  if (dy.shape.join() !== outShape.join())
    fail(op, `gradient ${shapeStr(dy.shape)} does not match the convolution output ${shapeStr(outShape)}`);
  return attrs;
}

/** The adjoint of conv2d in its input: maps an output gradient dy back to the input's shape xShape. */
export function conv2dGradInput(dy: Tensor, w: Tensor, xShape: readonly number[], opts: ConvGradOptions): Tensor {
  const attrs = adjointGeometry('conv2dGradInput', [dy, w], xShape, w.shape, dy, opts);
  return dy.engine.run(conv2dGradInputKernel, {
    inputs: [dy, w], outShape: xShape, attrs: { ...attrs, hasBias: false },
    grad: (ddx, [dyin, win]) => [conv2d(ddx, win!, attrs), conv2dGradFilter(ddx, dyin!, win!.shape, attrs)],
  });
}

/** The adjoint of conv2d in its weight: the weight gradient from the input x and the output gradient dy. */
export function conv2dGradFilter(x: Tensor, dy: Tensor, wShape: readonly number[], opts: ConvGradOptions): Tensor {
  const attrs = adjointGeometry('conv2dGradFilter', [x, dy], x.shape, wShape, dy, opts);
  return x.engine.run(conv2dGradFilterKernel, {
    inputs: [x, dy], outShape: wShape, attrs,
    grad: (ddw, [xin, dyin]) => [conv2dGradInput(dyin!, ddw, xin!.shape, attrs), conv2d(xin!, ddw, attrs)],
  });
}

/**
 * Transposed 2-D convolution (PyTorch semantics): x [N, Cin, H, W], w [Cin, Cout/groups, kh, kw],
 * optional bias [Cout] → [N, Cout, Ho, Wo], Ho = (H−1)·sh − top − bottom + dh·(kh−1) + outputPadding + 1.
 * It is the input adjoint of the conv2d with the same weight and geometry, mapping Cout → Cin.
 */
export function convTranspose2d(x: Tensor, w: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  const op = 'convTranspose2d';
  checkImage(op, x);
  w.assertLive(op);
  if (w.rank !== 4) fail(op, `weight must be rank 4 [Cin, Cout/groups, kh, kw], got ${shapeStr(w.shape)}`);
  const [N, Cin, H, W] = x.shape as [number, number, number, number];
  const [wc, Cog, kh, kw] = w.shape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || Cin % groups !== 0)
    fail(op, `groups = ${groups} must be a positive integer dividing the input channels ${Cin}`);
  if (wc !== Cin) fail(op, `weight ${shapeStr(w.shape)} expects ${wc} input channels but input ${shapeStr(x.shape)} has ${Cin}`);
  const stride = pair(op, 'stride', opts.stride, 1), dilation = pair(op, 'dilation', opts.dilation, 1);
  const outPad = pair(op, 'outputPadding', opts.outputPadding, 0);
  if (outPad[0] >= stride[0] || outPad[1] >= stride[1])
    fail(op, `outputPadding ${outPad.join('×')} must be smaller than the stride ${stride.join('×')}`);
  const ekh = dilation[0] * (kh - 1) + 1, ekw = dilation[1] * (kw - 1) + 1;
  const pad = resolvePadding(op, opts.padding, ekh, ekw, { H: H * stride[0], W: W * stride[1], stride, dilated: ekh !== kh || ekw !== kw });
  const Ho = (H - 1) * stride[0] - pad.top - pad.bottom + ekh + outPad[0];
  const Wo = (W - 1) * stride[1] - pad.left - pad.right + ekw + outPad[1];
  const Cout = Cog * groups;
  if (Ho < 1 || Wo < 1) fail(op, `padding ${JSON.stringify(pad)} leaves no output for input ${shapeStr(x.shape)} and kernel ${kh}×${kw}`);
  const outShape = [N, Cout, Ho, Wo];
  // The conv2d this is the adjoint of maps outShape back to x's shape (outputPadding < stride ensures it).
  const { attrs } = geometry(op, outShape, w.shape, { pad, stride, dilation, groups });
  const inputs = [x, w];
  if (opts.bias) {
    checkBias(op, opts.bias, Cout, w);
    inputs.push(opts.bias);
  }
  const hasBias = !!opts.bias;
  return x.engine.run(conv2dGradInputKernel, {
    inputs, outShape, attrs: { ...attrs, hasBias },
    grad: (dy, [xin, win]) => [
      conv2d(dy, win!, attrs),
      conv2dGradFilter(dy, xin!, win!.shape, attrs),
      ...(hasBias ? [biasGrad(dy, Cout)] : []),
    ],
  });
}
