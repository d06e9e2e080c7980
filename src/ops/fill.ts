import { buf } from '../backends/reference/storage.js';
import { fail } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { checkTensor } from './util/checks.js';

/** y = value everywhere. engine.fill / zeros / ones run this kernel; fullLike is its public op. */
export interface FillAttrs { value: number }

const wasm = wasmExport('fill', { y: 'ptr', n: 'i32', value: 'f32' });
const wgsl = wgslKernel('fill', { n: 'u32', value: 'f32' });

export const fillKernel = defineKernel<FillAttrs>({
  name: 'fill',
  reference(_inputs, out, { value }) {
    buf(out).fill(value);
  },
  wasm: {
    exports: [wasm],
    run(ctx, _inputs, out, { value }) {
      const n = numel(out.shape);
      ctx.call(wasm, { y: ctx.ptr(out.storage), n, value }, n);
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, _inputs, out, { value }) {
      const n = numel(out.shape);
      ctx.dispatch(wgsl, [{ params: { n, value }, bindings: [out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const kernels = [fillKernel];

/** A tensor of x's shape and engine holding `value` everywhere (no gradient: it does not depend on x). */
export function fullLike(x: Tensor, value: number): Tensor {
  checkTensor('fullLike', x);
  if (typeof value !== 'number') fail('fullLike', `value must be a number, got ${typeof value}`);
  return x.engine.fill(x.shape, value);
}
