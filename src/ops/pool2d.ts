import { buf } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, enumCode, wasmExport, wgslKernel } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';
import { checkImage } from './util/checks.js';

/**
 * Max and average pooling of NCHW images (docs/ops/pooling.md): window (kh, kw), stride (sh, sw),
 * padding per side, optional ceil mode, as PyTorch's MaxPool2d / AvgPool2d. Output row oh covers
 * input rows hs … hs + kh − 1 with hs = oh·sh − top (columns alike); padding never wins a max and
 * counts in an average's divisor only with countIncludePad (PyTorch's default). Padding smaller
 * than the kernel on every side keeps at least one real pixel in every window.
 *
 * Gradients: avg spreads dy[o] / divisor(o) over the real pixels of window o; max routes dy[o] to
 * the window's first maximum in row-major scan order, found again from x by the backward kernel
 * (no index tensor). Both backward kernels gather: each dx pixel sums, in ascending (oh, ow) order,
 * the windows it belongs to, so no two threads write one element and the thread count changes nothing.
 */
export interface Pool2dAttrs {
  mode: 'max' | 'avg';
  kh: number; kw: number; sh: number; sw: number;
  top: number; left: number; bottom: number; right: number;
  /** Average pooling: padded pixels count in the divisor. */
  includePad: boolean;
}

export interface Pool2dOptions {
  /** Default: the kernel size (non-overlapping windows). */
  stride?: number | readonly [number, number];
  /** All sides, or [left, right, top, bottom]; each side smaller than the kernel. Default 0. */
  pad?: number | readonly [number, number, number, number];
  /** Output size rounds up (a last, partial window), as PyTorch's ceil_mode. Default false. */
  ceilMode?: boolean;
}

const geometryArgs = {
  planes: 'i32', H: 'i32', W: 'i32', Ho: 'i32', Wo: 'i32', kh: 'i32', kw: 'i32', sh: 'i32', sw: 'i32',
  top: 'i32', left: 'i32', bottom: 'i32', right: 'i32', includePad: 'i32',
} as const;
const geometryUniforms = {
  n: 'u32', H: 'i32', W: 'i32', Ho: 'i32', Wo: 'i32', kh: 'i32', kw: 'i32', sh: 'i32', sw: 'i32',
  top: 'i32', left: 'i32', bottom: 'i32', right: 'i32', includePad: 'i32',
} as const;

const wasmForward = wasmExport('pool2d', { mode: 'i32', x: 'ptr', y: 'ptr', scratch: 'ptr', ...geometryArgs });
const wasmMaxGrad = wasmExport('maxPool2dGrad', { x: 'ptr', dy: 'ptr', dx: 'ptr', ...geometryArgs });
const wasmAvgGrad = wasmExport('avgPool2dGrad', { dy: 'ptr', dx: 'ptr', scratch: 'ptr', ...geometryArgs });
const gpuForward = wgslKernel('pool2d', { ...geometryUniforms, mode: 'u32' });
const gpuMaxGrad = wgslKernel('maxPool2dGrad', geometryUniforms);
const gpuAvgGrad = wgslKernel('avgPool2dGrad', geometryUniforms);

/** Input and output sizes of a pooling, from the image shapes (x first, y second). */
const dims = (x: readonly number[], y: readonly number[]) => ({ planes: x[0]! * x[1]!, H: x[2]!, W: x[3]!, Ho: y[2]!, Wo: y[3]! });

/**
 * Every size and attribute the kernels take, as one flat object literal: V8 builds an object
 * spread followed by many properties on a slow path (≈ 10 µs a call in Node 20), so no spreads here.
 */
const geometry = (x: readonly number[], y: readonly number[], a: Pool2dAttrs) => ({
  planes: x[0]! * x[1]!, H: x[2]!, W: x[3]!, Ho: y[2]!, Wo: y[3]!, kh: a.kh, kw: a.kw, sh: a.sh, sw: a.sw,
  top: a.top, left: a.left, bottom: a.bottom, right: a.right, includePad: +a.includePad,
});

/**
 * The part of window o along one axis that lies on real pixels, [lo, hi), and the divisor it
 * contributes: the window clipped to the padded extent (includePad), else to the real pixels.
 */
function span(o: number, s: number, k: number, before: number, size: number, after: number, includePad: boolean) {
  const start = o * s - before;
  const lo = Math.max(start, 0), hi = Math.min(start + k, size);
  return { lo, hi, div: includePad ? Math.min(start + k, size + after) - start : hi - lo };
}

const groups = (n: number): number => Math.ceil(n / 64);

export const pool2dKernel = defineKernel<Pool2dAttrs>({
  name: 'pool2d',
  enums: { POOL: ['max', 'avg'] },
  reference([x], out, a) {
    const X = buf(x!), Y = buf(out);
    const { planes, H, W, Ho, Wo } = dims(x!.shape, out.shape);
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < Ho; oh++) {
        const r = span(oh, a.sh, a.kh, a.top, H, a.bottom, a.includePad);
        for (let ow = 0; ow < Wo; ow++) {
          const c = span(ow, a.sw, a.kw, a.left, W, a.right, a.includePad);
          let acc = a.mode === 'max' ? -Infinity : 0;
          for (let h = r.lo; h < r.hi; h++)
            for (let w = c.lo; w < c.hi; w++) {
              const v = X[(p * H + h) * W + w]!;
              acc = a.mode === 'max' ? Math.max(acc, v) : acc + v;
            }
          Y[(p * Ho + oh) * Wo + ow] = a.mode === 'max' ? acc : acc / (r.div * c.div);
        }
      }
  },
  wasm: {
    exports: [wasmForward],
    run(ctx, [x], out, a) {
      const g = geometry(x!.shape, out.shape, a);
      // Per thread, as assembly/pool2d.ts lays it out: two rows with room for the padding and a
      // ceil-mode overhang, then the column divisors.
      const row = Math.max(g.left + g.W + g.right, (g.Wo - 1) * g.sw + g.kw) + 4;
      withScratch(ctx, [ctx.threads * (2 * row + g.Wo + 4)], ([scratch]) => ctx.call(wasmForward, Object.assign({
        mode: enumCode(pool2dKernel, 'POOL', a.mode), x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), scratch: scratch!,
      }, g), g.planes * g.Ho * (g.kh * g.W + g.kw * g.Wo)));
    },
  },
  webgpu: {
    kernels: [gpuForward],
    run(ctx, [x], out, a) {
      const g = geometry(x!.shape, out.shape, a);
      const n = g.planes * g.Ho * g.Wo;
      ctx.dispatch(gpuForward, [{ params: Object.assign({ n, mode: a.mode === 'max' ? 0 : 1 }, g), bindings: [x!.storage, out.storage], workgroups: groups(n) }]);
    },
  },
});

export const maxPool2dGradKernel = defineKernel<Pool2dAttrs>({
  name: 'maxPool2dGrad',
  reference([x, dy], out, a) {
    const X = buf(x!), DY = buf(dy!), DX = buf(out);
    const { planes, H, W, Ho, Wo } = dims(x!.shape, dy!.shape);
    DX.fill(0);
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < Ho; oh++) {
        const r = span(oh, a.sh, a.kh, a.top, H, a.bottom, false);
        for (let ow = 0; ow < Wo; ow++) {
          const c = span(ow, a.sw, a.kw, a.left, W, a.right, false);
          let best = (p * H + r.lo) * W + c.lo;
          for (let h = r.lo; h < r.hi; h++)
            for (let w = c.lo; w < c.hi; w++) {
              const i = (p * H + h) * W + w;
              if (X[i]! > X[best]!) best = i;
            }
          DX[best] = DX[best]! + DY[(p * Ho + oh) * Wo + ow]!;
        }
      }
  },
  wasm: {
    exports: [wasmMaxGrad],
    run(ctx, [x, dy], out, a) {
      const g = geometry(x!.shape, dy!.shape, a);
      ctx.call(wasmMaxGrad, Object.assign({ x: ctx.ptr(x!.storage), dy: ctx.ptr(dy!.storage), dx: ctx.ptr(out.storage) }, g),
        g.planes * g.H * Math.ceil(g.kh / g.sh) * g.Wo * g.kh * g.kw);
    },
  },
  webgpu: {
    kernels: [gpuMaxGrad],
    run(ctx, [x, dy], out, a) {
      const g = geometry(x!.shape, dy!.shape, a);
      const n = g.planes * g.H * g.W;
      ctx.dispatch(gpuMaxGrad, [{ params: Object.assign({ n }, g), bindings: [x!.storage, dy!.storage, out.storage], workgroups: groups(n) }]);
    },
  },
});

export const avgPool2dGradKernel = defineKernel<Pool2dAttrs>({
  name: 'avgPool2dGrad',
  reference([dy], out, a) {
    const DY = buf(dy!), DX = buf(out);
    const { planes, H, W, Ho, Wo } = dims(out.shape, dy!.shape);
    DX.fill(0);
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < Ho; oh++) {
        const r = span(oh, a.sh, a.kh, a.top, H, a.bottom, a.includePad);
        for (let ow = 0; ow < Wo; ow++) {
          const c = span(ow, a.sw, a.kw, a.left, W, a.right, a.includePad);
          const share = DY[(p * Ho + oh) * Wo + ow]! / (r.div * c.div);
          for (let h = r.lo; h < r.hi; h++)
            for (let w = c.lo; w < c.hi; w++) { const i = (p * H + h) * W + w; DX[i] = DX[i]! + share; }
        }
      }
  },
  wasm: {
    exports: [wasmAvgGrad],
    run(ctx, [dy], out, a) {
      const g = geometry(out.shape, dy!.shape, a);
      withScratch(ctx, [ctx.threads * (g.Wo + 4)], ([scratch]) => ctx.call(wasmAvgGrad, Object.assign({
        dy: ctx.ptr(dy!.storage), dx: ctx.ptr(out.storage), scratch: scratch!,
      }, g), g.planes * g.H * (Math.ceil(g.kh / g.sh) * g.Wo + g.W * Math.ceil(g.kw / g.sw))));
    },
  },
  webgpu: {
    kernels: [gpuAvgGrad],
    run(ctx, [dy], out, a) {
      const g = geometry(out.shape, dy!.shape, a);
      const n = g.planes * g.H * g.W;
      ctx.dispatch(gpuAvgGrad, [{ params: Object.assign({ n }, g), bindings: [dy!.storage, out.storage], workgroups: groups(n) }]);
    },
  },
});

export const kernels = [pool2dKernel, maxPool2dGradKernel, avgPool2dGradKernel];

// ---- public functions ------------------------------------------------------------------------

function pair(op: string, name: string, v: number | readonly [number, number] | undefined, fallback: readonly [number, number]): [number, number] {
  const p: unknown = v === undefined ? fallback : typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1))
    fail(op, `${name} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  return [p[0] as number, p[1] as number];
}

/** Output size along one axis: PyTorch's rule, including its ceil-mode correction. */
function outSize(size: number, k: number, s: number, before: number, after: number, ceil: boolean): number {
  const room = size + before + after - k;
  let o = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  // A last window that would start in the trailing padding is dropped.
  if (ceil && (o - 1) * s >= size + before) o--;
  return o;
}

function resolve(op: string, mode: Pool2dAttrs['mode'], x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions, includePad: boolean) {
  checkImage(op, x);
  const [kh, kw] = pair(op, 'kernel', kernel, [1, 1]);
  const [sh, sw] = pair(op, 'stride', opts.stride, [kh, kw]);
  const pad = opts.pad ?? 0;
  const sides: unknown = typeof pad === 'number' ? [pad, pad, pad, pad] : pad;
  if (!Array.isArray(sides) || sides.length !== 4 || !sides.every((d) => Number.isInteger(d) && d >= 0))
    fail(op, `pad must be a non-negative integer or [left, right, top, bottom], got ${JSON.stringify(pad)}`);
  const [left, right, top, bottom] = sides as [number, number, number, number];
  if (left >= kw || right >= kw || top >= kh || bottom >= kh)
    fail(op, `padding [${sides.join(', ')}] must be smaller than the ${kh}×${kw} kernel on every side (a window would hold only padding)`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (H + top + bottom < kh || W + left + right < kw)
    fail(op, `kernel ${kh}×${kw} is larger than the padded input ${shapeStr(x.shape)} with padding [${sides.join(', ')}]`);
  const ceil = opts.ceilMode ?? false;
  if (typeof ceil !== 'boolean') fail(op, `ceilMode must be a boolean, got ${JSON.stringify(ceil)}`);
  const outShape = [N, C, outSize(H, kh, sh, top, bottom, ceil), outSize(W, kw, sw, left, right, ceil)];
  const attrs: Pool2dAttrs = { mode, kh, kw, sh, sw, top, left, bottom, right, includePad };
  return { attrs, outShape };
}

/**
 * Max pooling of an NCHW image: y[n, c, oh, ow] = max of x over window (oh, ow). Padding acts as
 * −∞. Ties send the gradient to the first maximum in row-major window order. NaN inputs give
 * unspecified results. No second derivative (maxPool2dGrad records no gradient of its own).
 */
export function maxPool2d(x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions = {}): Tensor {
  const { attrs, outShape } = resolve('maxPool2d', 'max', x, kernel, opts, false);
  return x.engine.run(pool2dKernel, {
    inputs: [x], outShape, attrs,
    grad: (dy, [xin]) => [x.engine.run(maxPool2dGradKernel, { inputs: [xin!, dy], outShape: xin!.shape, attrs })],
  });
}

/** The average pooling kernel and its adjoint, avgPool2dGrad, are each other's gradient (both linear). */
function avgPool(x: Tensor, attrs: Pool2dAttrs, outShape: readonly number[]): Tensor {
  return x.engine.run(pool2dKernel, {
    inputs: [x], outShape, attrs, grad: (dy) => [avgPool2dGrad(dy, x.shape, attrs)],
  });
}

function avgPool2dGrad(dy: Tensor, xShape: readonly number[], attrs: Pool2dAttrs): Tensor {
  return dy.engine.run(avgPool2dGradKernel, {
    inputs: [dy], outShape: xShape, attrs, grad: (ddx) => [avgPool(ddx, attrs, dy.shape)],
  });
}

/**
 * Average pooling of an NCHW image. countIncludePad (default true, as PyTorch) divides by the
 * window's size clipped to the padded image; false divides by the number of real pixels.
 */
export function avgPool2d(x: Tensor, kernel: number | readonly [number, number], opts: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  if (opts.countIncludePad !== undefined && typeof opts.countIncludePad !== 'boolean')
    fail('avgPool2d', `countIncludePad must be a boolean, got ${JSON.stringify(opts.countIncludePad)}`);
  const { attrs, outShape } = resolve('avgPool2d', 'avg', x, kernel, opts, opts.countIncludePad ?? true);
  return avgPool(x, attrs, outShape);
}
