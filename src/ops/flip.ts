import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';
import { buf } from '../backends/reference/storage.js';
import { checkImage } from './util/checks.js';

/**
 * flip: y[n, c, h, w] = x[n, c, h', w'] with h' = H − 1 − h when reversing H (else h), likewise w.
 * Its own adjoint, so the gradient is the same flip of dy (docs/gradients.md).
 */
export interface FlipAttrs { h: boolean; w: boolean }

const wasm = wasmExport('flip', { x: 'ptr', y: 'ptr', planes: 'i32', H: 'i32', W: 'i32', fh: 'i32', fw: 'i32' });
const wgsl = wgslKernel('flip', { n: 'u32', H: 'u32', W: 'u32', fh: 'u32', fw: 'u32' });

export const flipKernel = defineKernel<FlipAttrs>({
  name: 'flip',
  reference([x], out, { h, w }) {
    const X = buf(x!), Y = buf(out);
    const [N, C, H, W] = out.shape as [number, number, number, number];
    for (let p = 0; p < N * C; p++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) Y[(p * H + i) * W + j] = X[(p * H + (h ? H - 1 - i : i)) * W + (w ? W - 1 - j : j)]!;
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { h, w }) {
      const [N, C, H, W] = out.shape as [number, number, number, number];
      ctx.call(wasm, { x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), planes: N * C, H, W, fh: +h, fw: +w }, N * C * H * W);
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [x], out, { h, w }) {
      const [N, C, H, W] = out.shape as [number, number, number, number];
      const n = N * C * H * W;
      ctx.dispatch(wgsl, [{ params: { n, H, W, fh: +h, fw: +w }, bindings: [x!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const kernels = [flipKernel];

/** Reverses H and/or W of an NCHW tensor. */
export function flip(x: Tensor, axes: { h?: boolean; w?: boolean }): Tensor {
  checkImage('flip', x);
  const attrs = { h: !!axes.h, w: !!axes.w };
  return x.engine.run(flipKernel, { inputs: [x], outShape: x.shape, attrs, grad: (dy) => [flip(dy, attrs)] });
}
