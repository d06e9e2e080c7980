import { buf } from '../backends/reference/storage.js';
import type { View } from '../backends/backend.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel, type GpuContext, type WasmContext } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';
import { checkImage } from './util/checks.js';

/**
 * Nearest and bilinear resizing of NCHW images with PyTorch's interpolate semantics, align_corners
 * off (docs/ops/resize.md). Along each axis output o reads input rows i0[o], i1[o] with weights
 * 1 − λ[o], λ[o]:
 *   nearest   i0 = i1 = min(⌊o·r⌋, in − 1), λ = 0
 *   bilinear  s = max(r·(o + ½) − ½, 0), i0 = ⌊s⌋, i1 = min(i0 + 1, in − 1), λ = s − i0
 * with r = in / out, or 1 / scale when a scale factor is given (as PyTorch, which then maps
 * coordinates by the factor, not by the rounded sizes). These tables are computed once on the host
 * in float32 arithmetic, as PyTorch's CPU kernels compute them, so every backend reads the same
 * pixels with the same weights. The output is separable: y = Σ wh · ww · x.
 *
 * Gradient: the adjoint, dx[i, j] = Σ over the outputs (o, q) that read (i, j) of
 * wh(o, i) · ww(q, j) · dy[o, q]. The backward kernel gathers it: the outputs reading input i form
 * one run [lo[i], hi[i]] (the tables are monotone), so each dx element sums its run in ascending
 * order and no two threads write one element.
 */
export interface ResizeAttrs {
  linear: boolean;
  /** Scale factors, when given instead of a size (they set r = 1 / scale). */
  scaleH: number | null;
  scaleW: number | null;
}

export type ResizeMode = 'nearest' | 'bilinear';
export interface ResizeOptions {
  mode?: ResizeMode;
  /** Output [Ho, Wo]. */
  size?: readonly [number, number];
  /** Or scale factors (one for both axes, or [sh, sw]): Ho = ⌊H·sh⌋, Wo = ⌊W·sw⌋. */
  scale?: number | readonly [number, number];
}

const f32 = Math.fround;

/** The tables of one axis: per output i0, i1, λ (float32 bits); per input the run lo … hi of outputs reading it. */
function axisTable(inSize: number, outSize: number, scale: number | null, linear: boolean) {
  const r = f32(scale === null ? inSize / outSize : 1 / scale);
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), lam = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    if (linear) {
      const s = Math.max(f32(f32(r * (o + 0.5)) - 0.5), 0);
      const a = Math.floor(s);
      const l = f32(s - a);
      i0[o] = Math.min(a, inSize - 1);
      // A zero weight reads nothing: i1 = i0 keeps the backward runs to the outputs that matter.
      i1[o] = l === 0 ? i0[o]! : Math.min(a + 1, inSize - 1);
      lam[o] = i1[o] === i0[o] ? 0 : l;
    } else {
      i0[o] = i1[o] = Math.min(Math.floor(f32(o * r)), inSize - 1);
    }
  }
  const lo = new Int32Array(inSize).fill(0), hi = new Int32Array(inSize).fill(-1);
  for (let o = outSize - 1; o >= 0; o--) lo[i0[o]!] = lo[i1[o]!] = o;
  for (let o = 0; o < outSize; o++) hi[i0[o]!] = hi[i1[o]!] = o;
  return { i0, i1, lam, lo, hi };
}
type AxisTable = ReturnType<typeof axisTable>;

/** Weight of input i in output o along one axis (λ = 0 wherever i1 = i0, so that case gives 1). */
const weight = (t: AxisTable, o: number, i: number): number => (t.i0[o] === i ? 1 - t.lam[o]! : 0) + (t.i1[o] === i ? t.lam[o]! : 0);

/** Both axes' tables from the input and output images, and their packed int32 form for the kernels. */
function tables(x: readonly number[], y: readonly number[], a: ResizeAttrs) {
  const [N, C, H, W] = x as [number, number, number, number];
  const Ho = y[2]!, Wo = y[3]!;
  const th = axisTable(H, Ho, a.scaleH, a.linear), tw = axisTable(W, Wo, a.scaleW, a.linear);
  const packed = new Int32Array(3 * Ho + 2 * H + 3 * Wo + 2 * W);
  let at = 0;
  for (const t of [th, tw])
    for (const part of [t.i0, t.i1, new Int32Array(t.lam.buffer), t.lo, t.hi]) {
      packed.set(part, at);
      at += part.length;
    }
  return { d: { planes: N * C, H, W, Ho, Wo }, th, tw, packed };
}

// Both directions take the same arguments: src is x (resize) or dy (resizeGrad), dst the output.
const args = { src: 'ptr', dst: 'ptr', table: 'ptr', scratch: 'ptr', planes: 'i32', H: 'i32', W: 'i32', Ho: 'i32', Wo: 'i32', linear: 'i32' } as const;
const wasmForward = wasmExport('resize', args);
const wasmGrad = wasmExport('resizeGrad', args);
const uniforms = { n: 'u32', H: 'u32', W: 'u32', Ho: 'u32', Wo: 'u32' } as const;
const gpuForward = wgslKernel('resize', uniforms);
const gpuGrad = wgslKernel('resizeGrad', uniforms);

/** The tables of a resize (forward) or of its adjoint, whose src is dy and dst is dx. */
const tablesOf = (forward: boolean, src: View, dst: View, a: ResizeAttrs) =>
  forward ? tables(src.shape, dst.shape, a) : tables(dst.shape, src.shape, a);

/**
 * wasm: the tables go to scratch memory with one row buffer per thread after them (an x row for
 * the forward pass, a dy row for the adjoint; assembly/resize.ts).
 */
function runWasm(ctx: WasmContext, forward: boolean, src: View, dst: View, a: ResizeAttrs): void {
  const { packed, d } = tablesOf(forward, src, dst, a);
  const row = forward ? d.W : d.Wo;
  const work = forward ? d.planes * d.Ho * (2 * d.W + 4 * d.Wo) : d.planes * d.H * 4 * (d.Wo + d.W);
  withScratch(ctx, [packed.length + ctx.threads * (row + 4)], ([table]) => {
    ctx.writeInts(table!, packed);
    ctx.call(forward ? wasmForward : wasmGrad, Object.assign({
      src: ctx.ptr(src.storage), dst: ctx.ptr(dst.storage), table: table!, scratch: table! + packed.length * 4, linear: +a.linear,
    }, d), work);
  });
}

/** WebGPU: one invocation per dst element; the tables travel as a temporary storage buffer. */
function runGpu(ctx: GpuContext, forward: boolean, src: View, dst: View, a: ResizeAttrs): void {
  const { packed, d } = tablesOf(forward, src, dst, a);
  const n = dst.storage.numel;
  ctx.dispatch(forward ? gpuForward : gpuGrad, [{
    params: Object.assign({ n }, d), bindings: [src.storage, ctx.temporary(packed), dst.storage], workgroups: Math.ceil(n / 64),
  }]);
}

export const resizeKernel = defineKernel<ResizeAttrs>({
  name: 'resize',
  reference([x], out, a) {
    const X = buf(x!), Y = buf(out);
    const { d: { planes, H, W, Ho, Wo }, th, tw } = tables(x!.shape, out.shape, a);
    for (let p = 0; p < planes; p++)
      for (let o = 0; o < Ho; o++) {
        const r0 = (p * H + th.i0[o]!) * W, r1 = (p * H + th.i1[o]!) * W, lh = th.lam[o]!;
        for (let q = 0; q < Wo; q++) {
          const c0 = tw.i0[q]!, c1 = tw.i1[q]!, lw = tw.lam[q]!;
          Y[(p * Ho + o) * Wo + q] = (1 - lh) * ((1 - lw) * X[r0 + c0]! + lw * X[r0 + c1]!) + lh * ((1 - lw) * X[r1 + c0]! + lw * X[r1 + c1]!);
        }
      }
  },
  wasm: { exports: [wasmForward], run: (ctx, [x], out, a) => runWasm(ctx, true, x!, out, a) },
  webgpu: { kernels: [gpuForward], run: (ctx, [x], out, a) => runGpu(ctx, true, x!, out, a) },
});

export const resizeGradKernel = defineKernel<ResizeAttrs>({
  name: 'resizeGrad',
  reference([dy], out, a) {
    const DY = buf(dy!), DX = buf(out);
    const { d: { planes, H, W, Ho, Wo }, th, tw } = tables(out.shape, dy!.shape, a);
    for (let p = 0; p < planes; p++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          let acc = 0;
          for (let o = th.lo[i]!; o <= th.hi[i]!; o++)
            for (let q = tw.lo[j]!; q <= tw.hi[j]!; q++) acc += weight(th, o, i) * weight(tw, q, j) * DY[(p * Ho + o) * Wo + q]!;
          DX[(p * H + i) * W + j] = acc;
        }
  },
  wasm: { exports: [wasmGrad], run: (ctx, [dy], out, a) => runWasm(ctx, false, dy!, out, a) },
  webgpu: { kernels: [gpuGrad], run: (ctx, [dy], out, a) => runGpu(ctx, false, dy!, out, a) },
});

export const kernels = [resizeKernel, resizeGradKernel];

// Forward and adjoint are linear and each other's gradient.
function forward(x: Tensor, outShape: readonly number[], attrs: ResizeAttrs): Tensor {
  return x.engine.run(resizeKernel, { inputs: [x], outShape, attrs, grad: (dy) => [adjoint(dy, x.shape, attrs)] });
}

function adjoint(dy: Tensor, xShape: readonly number[], attrs: ResizeAttrs): Tensor {
  return dy.engine.run(resizeGradKernel, { inputs: [dy], outShape: xShape, attrs, grad: (ddx) => [forward(ddx, dy.shape, attrs)] });
}

/**
 * Resizes an NCHW image to `size` [Ho, Wo] or by `scale`, nearest (default) or bilinear, as
 * PyTorch's F.interpolate with align_corners=False (nearest is its 'nearest', not 'nearest-exact').
 */
export function resize(x: Tensor, opts: ResizeOptions): Tensor {
  checkImage('resize', x);
  const mode = opts?.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') fail('resize', `mode must be 'nearest' or 'bilinear', got ${JSON.stringify(mode)}`);
  if ((opts.size === undefined) === (opts.scale === undefined)) fail('resize', 'give exactly one of size [Ho, Wo] and scale');
  const [N, C, H, W] = x.shape as [number, number, number, number];
  let Ho: number, Wo: number, scaleH: number | null = null, scaleW: number | null = null;
  if (opts.size !== undefined) {
    const s: unknown = opts.size;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => Number.isInteger(d) && d >= 1))
      fail('resize', `size must be [Ho, Wo] of positive integers, got ${JSON.stringify(s)}`);
    [Ho, Wo] = s as [number, number];
  } else {
    const s: unknown = typeof opts.scale === 'number' ? [opts.scale, opts.scale] : opts.scale;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0))
      fail('resize', `scale must be a positive number or [sh, sw], got ${JSON.stringify(opts.scale)}`);
    [scaleH, scaleW] = s as [number, number];
    Ho = Math.floor(H * scaleH);
    Wo = Math.floor(W * scaleW);
    if (Ho < 1 || Wo < 1) fail('resize', `scale ${JSON.stringify(opts.scale)} shrinks ${shapeStr(x.shape)} to nothing (${Ho}×${Wo})`);
  }
  return forward(x, [N, C, Ho, Wo], { linear: mode === 'bilinear', scaleH, scaleW });
}
