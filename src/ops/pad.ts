import { buf } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { checkImage } from './util/checks.js';

/**
 * pad: y[n, c, oh, ow] = x[n, c, src(oh), src(ow)], or the fill value where a source is −1 ('constant').
 * Along an axis of length L padded by `before`, i = o − before and
 *   constant:  src = i inside [0, L), else −1;
 *   reflect:   −i below 0, 2(L − 1) − i past the end (PyTorch's ReflectionPad2d: pads < L);
 *   replicate: i clamped to [0, L − 1].
 * The gradient padGrad is the adjoint: dx[h, w] = Σ dy[oh, ow] over every (oh, ow) whose sources
 * are (h, w), each dx element summing its own sources in a fixed order (docs/ops/layout.md).
 */
export type PadMode = 'zero' | 'constant' | 'reflect' | 'replicate';
/** [left, right, top, bottom]. */
export type Pads = readonly [number, number, number, number];
export interface PadAttrs { pads: Pads; mode: 'constant' | 'reflect' | 'replicate'; value: number }
export type PadGradAttrs = Omit<PadAttrs, 'value'>;

const wasmPad = wasmExport('pad', {
  x: 'ptr', y: 'ptr', planes: 'i32', H: 'i32', W: 'i32', Ho: 'i32', Wo: 'i32', left: 'i32', srcRow: 'ptr', srcCol: 'ptr', value: 'f32',
});
const wasmPadGrad = wasmExport('padGrad', {
  dy: 'ptr', dx: 'ptr', planes: 'i32', H: 'i32', W: 'i32', Ho: 'i32', Wo: 'i32', left: 'i32',
  rowPtr: 'ptr', rowIdx: 'ptr', colPtr: 'ptr', colIdx: 'ptr',
});
const wgslPad = wgslKernel('pad', { n: 'u32', H: 'u32', W: 'u32', Ho: 'u32', Wo: 'u32', value: 'f32' });
const wgslPadGrad = wgslKernel('padGrad', {
  n: 'u32', H: 'u32', W: 'u32', Ho: 'u32', Wo: 'u32', left: 'u32', rowIdx0: 'u32', colPtr0: 'u32', colIdx0: 'u32',
});

/** The source of output position o along an axis of length n padded by `before`, or −1 for the fill value. */
function source(o: number, n: number, before: number, mode: PadAttrs['mode']): number {
  const i = o - before;
  if (i >= 0 && i < n) return i;
  if (mode === 'constant') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : n - 1;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

const sources = (n: number, before: number, after: number, mode: PadAttrs['mode']): number[] =>
  Array.from({ length: before + n + after }, (_, o) => source(o, n, before, mode));

/**
 * The sinks of each input position along an axis: CSR offsets (n + 1) and the output positions
 * reading it, in increasing order. Without `interior` the position's own copy (o = i + before) is
 * left out: the kernels add the interior column as one contiguous run.
 */
function sinks(n: number, before: number, after: number, mode: PadAttrs['mode'], interior: boolean): { ptr: number[]; idx: number[] } {
  const lists: number[][] = Array.from({ length: n }, () => []);
  sources(n, before, after, mode).forEach((s, o) => {
    if (s >= 0 && (interior || o !== s + before)) lists[s]!.push(o);
  });
  const ptr = [0];
  for (const l of lists) ptr.push(ptr[ptr.length - 1]! + l.length);
  return { ptr, idx: lists.flat() };
}

type Dims = [number, number, number, number];

/** Rows then columns: the source of each output row and column (−1: fill value). */
function forwardTable(x: readonly number[], { pads: [left, right, top, bottom], mode }: PadAttrs): number[] {
  const [, , H, W] = x as Dims;
  return [...sources(H, top, bottom, mode), ...sources(W, left, right, mode)];
}

/** [rowPtr | rowIdx | colPtr | colIdx] and where each part starts; rows list every sink, columns only the extra ones. */
function backwardTable(dx: readonly number[], { pads: [left, right, top, bottom], mode }: PadGradAttrs) {
  const [, , H, W] = dx as Dims;
  const rows = sinks(H, top, bottom, mode, true), cols = sinks(W, left, right, mode, false);
  const table = [...rows.ptr, ...rows.idx, ...cols.ptr, ...cols.idx];
  const rowIdx0 = rows.ptr.length, colPtr0 = rowIdx0 + rows.idx.length, colIdx0 = colPtr0 + cols.ptr.length;
  return { table, rowIdx0, colPtr0, colIdx0 };
}

export const padKernel = defineKernel<PadAttrs>({
  name: 'pad',
  reference([x], out, { pads: [left, , top], mode, value }) {
    const X = buf(x!), Y = buf(out);
    const [, , H, W] = x!.shape as Dims;
    const [N, C, Ho, Wo] = out.shape as Dims;
    for (let p = 0; p < N * C; p++)
      for (let oh = 0; oh < Ho; oh++) {
        const sh = source(oh, H, top, mode);
        for (let ow = 0; ow < Wo; ow++) {
          const sw = source(ow, W, left, mode);
          Y[(p * Ho + oh) * Wo + ow] = sh < 0 || sw < 0 ? value : X[(p * H + sh) * W + sw]!;
        }
      }
  },
  wasm: {
    exports: [wasmPad],
    run(ctx, [x], out, attrs) {
      const [N, C, H, W] = x!.shape as Dims;
      const [, , Ho, Wo] = out.shape as Dims;
      const table = forwardTable(x!.shape, attrs);
      withScratch(ctx, [table.length], ([t]) => {
        ctx.writeInts(t!, table);
        ctx.call(wasmPad, {
          x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), planes: N * C, H, W, Ho, Wo, left: attrs.pads[0],
          srcRow: t!, srcCol: t! + Ho * 4, value: attrs.value,
        }, N * C * Ho * Wo);
      });
    },
  },
  webgpu: {
    kernels: [wgslPad],
    run(ctx, [x], out, attrs) {
      const [, , H, W] = x!.shape as Dims;
      const [, , Ho, Wo] = out.shape as Dims;
      const n = numel(out.shape);
      const table = ctx.temporary(Int32Array.from(forwardTable(x!.shape, attrs)));
      ctx.dispatch(wgslPad, [{ params: { n, H, W, Ho, Wo, value: attrs.value }, bindings: [x!.storage, table, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const padGradKernel = defineKernel<PadGradAttrs>({
  name: 'padGrad',
  // Scatters each dy element onto its source: the adjoint by definition, independent of the tables.
  reference([dy], out, { pads: [left, , top], mode }) {
    const G = buf(dy!), D = buf(out);
    const [N, C, H, W] = out.shape as Dims;
    const [, , Ho, Wo] = dy!.shape as Dims;
    D.fill(0);
    for (let p = 0; p < N * C; p++)
      for (let oh = 0; oh < Ho; oh++) {
        const sh = source(oh, H, top, mode);
        if (sh < 0) continue;
        for (let ow = 0; ow < Wo; ow++) {
          const sw = source(ow, W, left, mode);
          if (sw >= 0) D[(p * H + sh) * W + sw]! += G[(p * Ho + oh) * Wo + ow]!;
        }
      }
  },
  wasm: {
    exports: [wasmPadGrad],
    run(ctx, [dy], out, attrs) {
      const [N, C, H, W] = out.shape as Dims;
      const [, , Ho, Wo] = dy!.shape as Dims;
      const { table, rowIdx0, colPtr0, colIdx0 } = backwardTable(out.shape, attrs);
      withScratch(ctx, [table.length], ([t]) => {
        ctx.writeInts(t!, table);
        ctx.call(wasmPadGrad, {
          dy: ctx.ptr(dy!.storage), dx: ctx.ptr(out.storage), planes: N * C, H, W, Ho, Wo, left: attrs.pads[0],
          rowPtr: t!, rowIdx: t! + rowIdx0 * 4, colPtr: t! + colPtr0 * 4, colIdx: t! + colIdx0 * 4,
        }, N * C * Ho * Wo);
      });
    },
  },
  webgpu: {
    kernels: [wgslPadGrad],
    run(ctx, [dy], out, attrs) {
      const [, , H, W] = out.shape as Dims;
      const [, , Ho, Wo] = dy!.shape as Dims;
      const n = numel(out.shape);
      const { table, rowIdx0, colPtr0, colIdx0 } = backwardTable(out.shape, attrs);
      ctx.dispatch(wgslPadGrad, [{
        params: { n, H, W, Ho, Wo, left: attrs.pads[0], rowIdx0, colPtr0, colIdx0 },
        bindings: [dy!.storage, ctx.temporary(Int32Array.from(table)), out.storage],
        workgroups: Math.ceil(n / 64),
      }]);
    },
  },
});

export const kernels = [padKernel, padGradKernel];

const MODES: readonly PadMode[] = ['zero', 'constant', 'reflect', 'replicate'];

/**
 * Pads H and W of an NCHW tensor by pads = [left, right, top, bottom] (non-negative integers).
 * mode 'zero' (default) or 'constant' (with `value`) fills; 'reflect' mirrors without repeating the
 * edge (each pad smaller than its dimension); 'replicate' repeats the edge.
 */
export function pad(x: Tensor, pads: Pads, mode: PadMode = 'zero', value = 0): Tensor {
  checkImage('pad', x);
  if (!Array.isArray(pads) || pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0))
    fail('pad', `pads [${String(pads)}] must be 4 non-negative integers [left, right, top, bottom]`);
  if (!MODES.includes(mode)) fail('pad', `unknown mode '${String(mode)}' (use zero, constant, reflect or replicate)`);
  if (typeof value !== 'number' || !Number.isFinite(value)) fail('pad', `value ${String(value)} must be a finite number`);
  if (mode !== 'constant' && value !== 0) fail('pad', `value ${value} is only used by mode 'constant' (mode is '${mode}')`);
  const [N, C, H, W] = x.shape as Dims;
  const [left, right, top, bottom] = pads;
  if (mode === 'reflect' && (left >= W || right >= W || top >= H || bottom >= H))
    fail('pad', `reflect pads [${pads.join(', ')}] must each be smaller than the dimension they pad (H ${H}, W ${W} of ${shapeStr(x.shape)})`);
  const attrs: PadAttrs = { pads: [left, right, top, bottom], mode: mode === 'zero' ? 'constant' : mode, value };
  return x.engine.run(padKernel, {
    inputs: [x], outShape: [N, C, H + top + bottom, W + left + right], attrs,
    grad: (dy) => [padGrad(dy, attrs, [N, C, H, W])],
  });
}

/** The adjoint of pad's linear part: dx (shape xShape) gathers every dy element that read it. */
export function padGrad(dy: Tensor, attrs: PadGradAttrs, xShape: readonly number[]): Tensor {
  checkImage('padGrad', dy);
  const [left, right, top, bottom] = attrs.pads;
  const [N, C, H, W] = xShape as Dims;
  const want = [N, C, H + top + bottom, W + left + right];
  if (dy.shape.some((d, i) => d !== want[i])) fail('padGrad', `gradient ${shapeStr(dy.shape)} does not match the padded shape ${shapeStr(want)}`);
  const { pads, mode } = attrs;
  return dy.engine.run(padGradKernel, {
    inputs: [dy], outShape: xShape, attrs: { pads, mode },
    // Its adjoint is pad again, filling with 0.
    grad: (g) => [pad(g, pads, mode === 'constant' ? 'zero' : mode)],
  });
}
