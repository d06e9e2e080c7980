import { buf } from '../backends/reference/storage.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { checkImage } from './util/checks.js';

/**
 * Space-to-depth by 2 (the flows' squeeze) and its inverse:
 * s[n, 4c + 2dy + dx, i, j] = x[n, c, 2i + dy, 2j + dx]. A permutation of the elements, so each
 * is the other's adjoint (docs/ops/layout.md).
 */
export type SpaceToDepthAttrs = Record<string, never>;

// N, C, H, W: the unsqueezed side's shape in both directions.
const wasmSqueeze = wasmExport('squeeze', { x: 'ptr', y: 'ptr', N: 'i32', C: 'i32', H: 'i32', W: 'i32' });
const wasmUnsqueeze = wasmExport('unsqueeze', { x: 'ptr', y: 'ptr', N: 'i32', C: 'i32', H: 'i32', W: 'i32' });
const wgslSqueeze = wgslKernel('squeeze', { n: 'u32', C: 'u32', H: 'u32', W: 'u32' });
const wgslUnsqueeze = wgslKernel('unsqueeze', { n: 'u32', C: 'u32', H: 'u32', W: 'u32' });

/** Visits every (squeezed index, unsqueezed index) pair; N, C, H, W are the unsqueezed shape. */
function forEachPair(N: number, C: number, H: number, W: number, visit: (si: number, ui: number) => void): void {
  const h2 = H / 2, w2 = W / 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++)
          for (let i = 0; i < h2; i++)
            for (let j = 0; j < w2; j++)
              visit(((n * 4 * C + 4 * c + 2 * dy + dx) * h2 + i) * w2 + j, ((n * C + c) * H + 2 * i + dy) * W + 2 * j + dx);
}

type Dims = [number, number, number, number];

export const squeezeKernel = defineKernel<SpaceToDepthAttrs>({
  name: 'squeeze',
  reference([x], out) {
    const X = buf(x!), Y = buf(out);
    const [N, C, H, W] = x!.shape as Dims;
    forEachPair(N, C, H, W, (si, ui) => { Y[si] = X[ui]!; });
  },
  wasm: {
    exports: [wasmSqueeze],
    run(ctx, [x], out) {
      const [N, C, H, W] = x!.shape as Dims;
      ctx.call(wasmSqueeze, { x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), N, C, H, W }, N * C * H * W);
    },
  },
  webgpu: {
    kernels: [wgslSqueeze],
    run(ctx, [x], out) {
      const [, C, H, W] = x!.shape as Dims;
      const n = numel(out.shape);
      ctx.dispatch(wgslSqueeze, [{ params: { n, C, H, W }, bindings: [x!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const unsqueezeKernel = defineKernel<SpaceToDepthAttrs>({
  name: 'unsqueeze',
  reference([x], out) {
    const X = buf(x!), Y = buf(out);
    const [N, C, H, W] = out.shape as Dims;
    forEachPair(N, C, H, W, (si, ui) => { Y[ui] = X[si]!; });
  },
  wasm: {
    exports: [wasmUnsqueeze],
    run(ctx, [x], out) {
      const [N, C, H, W] = out.shape as Dims;
      ctx.call(wasmUnsqueeze, { x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage), N, C, H, W }, N * C * H * W);
    },
  },
  webgpu: {
    kernels: [wgslUnsqueeze],
    run(ctx, [x], out) {
      const [, C, H, W] = out.shape as Dims;
      const n = numel(out.shape);
      ctx.dispatch(wgslUnsqueeze, [{ params: { n, C, H, W }, bindings: [x!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const kernels = [squeezeKernel, unsqueezeKernel];

/** Space-to-depth by 2: (N, C, H, W) → (N, 4C, H/2, W/2), new channel 4c + 2dy + dx. */
export function squeeze(x: Tensor): Tensor {
  checkImage('squeeze', x);
  const [N, C, H, W] = x.shape as Dims;
  if (H % 2 || W % 2) fail('squeeze', `height and width of ${shapeStr(x.shape)} must be even`);
  return x.engine.run(squeezeKernel, { inputs: [x], outShape: [N, 4 * C, H / 2, W / 2], attrs: {}, grad: (dy) => [unsqueeze(dy)] });
}

/** Depth-to-space by 2: the exact inverse of squeeze, (N, 4C, H, W) → (N, C, 2H, 2W). */
export function unsqueeze(x: Tensor): Tensor {
  checkImage('unsqueeze', x);
  const [N, C, H, W] = x.shape as Dims;
  if (C % 4) fail('unsqueeze', `channels of ${shapeStr(x.shape)} must be a multiple of 4`);
  return x.engine.run(unsqueezeKernel, { inputs: [x], outShape: [N, C / 4, 2 * H, 2 * W], attrs: {}, grad: (dy) => [squeeze(dy)] });
}
