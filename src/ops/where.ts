import { buf } from '../backends/reference/storage.js';
import { fail } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { broadcastShapes, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { sumTo } from '../engine/views.js';
import { broadcastLayout, forEachBroadcast, sixOf } from './util/broadcast.js';
import { checkTensor } from './util/checks.js';

/**
 * where(cond, a, b): y = a where cond ≠ 0 (NaN counts as true), else b, with numpy broadcasting of
 * all three. The gradient goes to a where the condition held and to b elsewhere (each summed back
 * to its own shape); cond gets none. docs/ops/elementwise.md.
 */
const wasm = wasmExport('where', {
  c: 'ptr', a: 'ptr', b: 'ptr', y: 'ptr', d0: 'i32', d1: 'i32', d2: 'i32', d3: 'i32', d4: 'i32', d5: 'i32',
  sc0: 'i32', sc1: 'i32', sc2: 'i32', sc3: 'i32', sc4: 'i32', sc5: 'i32', sa0: 'i32', sa1: 'i32', sa2: 'i32', sa3: 'i32', sa4: 'i32', sa5: 'i32',
  sb0: 'i32', sb1: 'i32', sb2: 'i32', sb3: 'i32', sb4: 'i32', sb5: 'i32',
});
const wgsl = wgslKernel('where', {
  n: 'u32', d0: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
  sc0: 'u32', sc1: 'u32', sc2: 'u32', sc3: 'u32', sc4: 'u32', sc5: 'u32', sa0: 'u32', sa1: 'u32', sa2: 'u32', sa3: 'u32', sa4: 'u32', sa5: 'u32',
  sb0: 'u32', sb1: 'u32', sb2: 'u32', sb3: 'u32', sb4: 'u32', sb5: 'u32',
});

export const whereKernel = defineKernel<Record<string, never>>({
  name: 'where',
  reference([c, a, b], out) {
    const C = buf(c!), A = buf(a!), B = buf(b!), Y = buf(out);
    forEachBroadcast(out.shape, [c!.shape, a!.shape, b!.shape], (o, [ic, ia, ib]) => {
      Y[o] = C[ic!] !== 0 ? A[ia!]! : B[ib!]!;
    });
  },
  wasm: {
    exports: [wasm],
    run(ctx, [c, a, b], out) {
      const { dims, strides: [sc, sa, sb] } = broadcastLayout('where', out.shape, [c!.shape, a!.shape, b!.shape]);
      ctx.call(wasm, {
        c: ctx.ptr(c!.storage), a: ctx.ptr(a!.storage), b: ctx.ptr(b!.storage), y: ctx.ptr(out.storage),
        ...sixOf('d', dims), ...sixOf('sc', sc!), ...sixOf('sa', sa!), ...sixOf('sb', sb!),
      }, numel(out.shape) * 4);
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [c, a, b], out) {
      const n = numel(out.shape);
      const { dims, strides: [sc, sa, sb] } = broadcastLayout('where', out.shape, [c!.shape, a!.shape, b!.shape]);
      ctx.dispatch(wgsl, [{
        params: { n, ...sixOf('d', dims), ...sixOf('sc', sc!), ...sixOf('sa', sa!), ...sixOf('sb', sb!) },
        bindings: [c!.storage, a!.storage, b!.storage, out.storage],
        workgroups: Math.ceil(n / 64),
      }]);
    },
  },
});

export const kernels = [whereKernel];

/**
 * a where cond ≠ 0, else b, broadcasting all three. a or b may be a number (a constant without
 * gradient).
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  checkTensor('where', cond, 'cond');
  const engine = cond.engine;
  const operand = (v: Tensor | number, what: string): Tensor => {
    if (typeof v === 'number') {
      if (Number.isNaN(v)) fail('where', `${what} is NaN`);
      return engine.scalar(v);
    }
    checkTensor('where', v, what);
    if (v.engine !== engine) fail('where', `${what} ${v} lives on another engine than cond ${cond}`);
    return v;
  };
  const ta = operand(a, 'a'), tb = operand(b, 'b');
  const outShape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  try {
    return engine.run(whereKernel, {
      inputs: [cond, ta, tb], outShape, attrs: {},
      grad: (dy, [c, x, z]) => [
        null,
        ta === a ? sumTo(where(c!, dy, 0), x!.shape) : null,
        tb === b ? sumTo(where(c!, 0, dy), z!.shape) : null,
      ],
    });
  } finally {
    // Constants made here: the tape keeps its own alias of them.
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}
