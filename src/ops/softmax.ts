import { buf } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { mul, sub } from './binary.js';
import { exp } from './unary.js';
import { normaliseAxis } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { sum } from './reduce.js';

/**
 * Softmax and log-softmax along one axis, fused and stable (docs/ops/softmax.md). The kernel sees
 * an [outer, L, inner] view with L the softmax axis.
 */
export interface SoftmaxAttrs { log: boolean }

/** Most columns per wasm task when inner > 1 (assembly/softmax.ts CHUNK): its scratch is 2 floats per column. */
const CHUNK = 256;

const wasm = wasmExport('softmax', { x: 'ptr', y: 'ptr', outer: 'i32', L: 'i32', inner: 'i32', log: 'i32', scratch: 'ptr' });
const rows = wgslKernel('softmaxRows', { rows: 'u32', L: 'u32', log: 'u32' });
const columns = wgslKernel('softmaxColumns', { n: 'u32', L: 'u32', inner: 'u32', log: 'u32' });

export const softmaxKernel = defineKernel<SoftmaxAttrs>({
  name: 'softmax',
  reference([x], out, { log }) {
    const X = buf(x!), Y = buf(out);
    const [outer, L, inner] = x!.shape as [number, number, number];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (l: number) => (o * L + l) * inner + i;
        let m = -Infinity;
        for (let l = 0; l < L; l++) m = Math.max(m, X[at(l)]!);
        let s = 0;
        for (let l = 0; l < L; l++) s += Math.exp(X[at(l)]! - m);
        for (let l = 0; l < L; l++) Y[at(l)] = log ? X[at(l)]! - m - Math.log(s) : Math.exp(X[at(l)]! - m) / s;
      }
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { log }) {
      const [outer, L, inner] = x!.shape as [number, number, number];
      withScratch(ctx, [inner === 1 ? 1 : ctx.threads * 2 * CHUNK], ([scratch]) => {
        ctx.call(wasm, { x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), outer, L, inner, log: +log, scratch: scratch! },
          outer * L * inner * 16);
      });
    },
  },
  webgpu: {
    kernels: [rows, columns],
    run(ctx, [x], out, { log }) {
      const [outer, L, inner] = x!.shape as [number, number, number];
      const bindings = [x!.storage, out.storage];
      if (inner === 1) ctx.dispatch(rows, [{ params: { rows: outer, L, log: +log }, bindings, workgroups: outer }]);
      else ctx.dispatch(columns, [{ params: { n: outer * inner, L, inner, log: +log }, bindings, workgroups: Math.ceil(outer * inner / 64) }]);
    },
  },
});

export const kernels = [softmaxKernel];

function run(op: string, x: Tensor, axis: number, log: boolean): Tensor {
  x.assertLive(op);
  if (x.rank === 0) fail(op, 'needs a tensor of rank 1 or more, got a scalar');
  if (typeof axis !== 'number') fail(op, `axis must be an integer, got ${String(axis)}`);
  const ax = normaliseAxis(op, axis, x.rank);
  const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const view = [outer, x.shape[ax]!, inner];
  return x.engine.run(softmaxKernel, {
    inputs: [x], outShape: x.shape, attrs: { log }, kernelInputShapes: [view], kernelOutShape: view,
    // softmax: dx = y ⊙ (dy − Σ dy ⊙ y); log-softmax: dx = dy − e^y ⊙ Σ dy (sums along the axis).
    grad: (dy, _x, y) => [log ? sub(dy, mul(exp(y), sum(dy, [ax], true))) : mul(y, sub(dy, sum(mul(dy, y), [ax], true)))],
  });
}

/** e^x / Σ e^x along `axis` (default the last), computed as e^(x − m) / Σ e^(x − m) with m the maximum. */
export const softmax = (x: Tensor, axis = -1): Tensor => run('softmax', x, axis, false);

/** x − log Σ e^x along `axis` (default the last), computed as x − m − log Σ e^(x − m). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => run('logSoftmax', x, axis, true);
