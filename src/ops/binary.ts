import { buf } from '../backends/reference/storage.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, enumCode, wasmExport, wgslKernel } from '../engine/kernel.js';
import { broadcastShapes, numel, sameShape, type Shape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { reshape, sumTo } from '../engine/views.js';
import { affine, neg } from './unary.js';
import { broadcastLayout, forEachBroadcast, sixOf } from './util/broadcast.js';
import { checkTensor } from './util/checks.js';

/**
 * y = a ∘ b elementwise with numpy broadcasting (shapes right-aligned, a dimension of 1 stretches),
 * ∘ chosen by a function code; 'eq' and 'gt' give 1 or 0. Gradient rules: docs/ops/elementwise.md.
 */
export const binaryFns = ['add', 'sub', 'mul', 'div', 'max', 'min', 'eq', 'gt'] as const;
export type BinaryFn = (typeof binaryFns)[number];
export interface BinaryAttrs { fn: BinaryFn }

function binaryFn(fn: BinaryFn): (a: number, b: number) => number {
  switch (fn) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'max': return (a, b) => (a > b ? a : b);
    case 'min': return (a, b) => (a < b ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
  }
}

const wgslBody: Record<BinaryFn, string> = {
  add: 'u + v',
  sub: 'u - v',
  mul: 'u * v',
  div: 'u / v',
  max: 'select(v, u, u > v)',
  min: 'select(v, u, u < v)',
  eq: 'select(0.0, 1.0, u == v)',
  gt: 'select(0.0, 1.0, u > v)',
};

const wasm = wasmExport('binary', {
  fn: 'i32', a: 'ptr', b: 'ptr', y: 'ptr', d0: 'i32', d1: 'i32', d2: 'i32', d3: 'i32', d4: 'i32', d5: 'i32',
  sa0: 'i32', sa1: 'i32', sa2: 'i32', sa3: 'i32', sa4: 'i32', sa5: 'i32', sb0: 'i32', sb1: 'i32', sb2: 'i32', sb3: 'i32', sb4: 'i32', sb5: 'i32',
});
const wgsl = wgslKernel('binary', {
  n: 'u32', d0: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
  sa0: 'u32', sa1: 'u32', sa2: 'u32', sa3: 'u32', sa4: 'u32', sa5: 'u32', sb0: 'u32', sb1: 'u32', sb2: 'u32', sb3: 'u32', sb4: 'u32', sb5: 'u32',
}, ['BINARY']);

export const binaryKernel = defineKernel<BinaryAttrs>({
  name: 'binary',
  enums: { Binary: binaryFns },
  reference([a, b], out, { fn }) {
    const A = buf(a!), B = buf(b!), Y = buf(out);
    const f = binaryFn(fn);
    forEachBroadcast(out.shape, [a!.shape, b!.shape], (o, [ia, ib]) => { Y[o] = f(A[ia!]!, B[ib!]!); });
  },
  wasm: {
    exports: [wasm],
    run(ctx, [a, b], out, { fn }) {
      const { dims, strides: [sa, sb] } = broadcastLayout('binary', out.shape, [a!.shape, b!.shape]);
      ctx.call(wasm, {
        fn: enumCode(binaryKernel, 'Binary', fn), a: ctx.ptr(a!.storage), b: ctx.ptr(b!.storage), y: ctx.ptr(out.storage),
        ...sixOf('d', dims), ...sixOf('sa', sa!), ...sixOf('sb', sb!),
      }, numel(out.shape) * 4);
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [a, b], out, { fn }) {
      const n = numel(out.shape);
      const { dims, strides: [sa, sb] } = broadcastLayout('binary', out.shape, [a!.shape, b!.shape]);
      ctx.dispatch(wgsl, [{
        params: { n, ...sixOf('d', dims), ...sixOf('sa', sa!), ...sixOf('sb', sb!) },
        bindings: [a!.storage, b!.storage, out.storage],
        workgroups: Math.ceil(n / 64),
      }], { subs: { BINARY: wgslBody[fn] }, label: `binary ${fn}` });
    },
    variants: () => binaryFns.map((fn) => ({ kernel: wgsl, subs: { BINARY: wgslBody[fn] } })),
  },
});

export const kernels = [binaryKernel];

/** Output of a broadcasting binary op, with each input's gradient summed back to its own shape. */
function binary(op: string, fn: BinaryFn, a: Tensor, b: Tensor,
  grad: ((dy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null]) | undefined): Tensor {
  checkTensor(op, a, 'first operand');
  checkTensor(op, b, 'second operand');
  if (a.engine !== b.engine) fail(op, `${a} and ${b} live on different engines`);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  return a.engine.run(binaryKernel, {
    inputs: [a, b], outShape, attrs: { fn },
    grad: grad && ((dy, [x, z], y) => {
      const [ga, gb] = grad(dy, x!, z!, y);
      return [ga && sumTo(ga, x!.shape), gb && sumTo(gb, z!.shape)];
    }),
  });
}

type Operand = Tensor | number;

function scalar(op: string, b: number): number {
  if (!Number.isFinite(b)) fail(op, `the scalar operand must be finite, got ${b}`);
  return b;
}

export function add(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, scalar('add', b));
  return binary('add', 'add', a, b, (dy) => [dy, dy]);
}
export function sub(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, -scalar('sub', b));
  return binary('sub', 'sub', a, b, (dy) => [dy, neg(dy)]);
}
export function mul(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, scalar('mul', b), 0);
  return binary('mul', 'mul', a, b, (dy, x, z) => [mul(dy, z), mul(dy, x)]);
}
export function div(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') {
    if (b === 0) fail('div', 'division by the scalar 0');
    return affine(a, 1 / scalar('div', b), 0);
  }
  return binary('div', 'div', a, b, (dy, _x, z, y) => [div(dy, z), neg(div(mul(dy, y), z))]);
}
/** Elementwise maximum; ties send the gradient to a. */
export const maximum = (a: Tensor, b: Tensor): Tensor =>
  binary('maximum', 'max', a, b, (dy, x, z) => {
    const bWins = greater(z, x);
    return [mul(dy, affine(bWins, -1, 1)), mul(dy, bWins)];
  });
/** Elementwise minimum; ties send the gradient to a. */
export const minimum = (a: Tensor, b: Tensor): Tensor =>
  binary('minimum', 'min', a, b, (dy, x, z) => {
    const bWins = greater(x, z);
    return [mul(dy, affine(bWins, -1, 1)), mul(dy, bWins)];
  });
/** 1 where a = b, else 0; no gradient. */
export const equal = (a: Tensor, b: Tensor): Tensor => binary('equal', 'eq', a, b, () => [null, null]);
/** 1 where a > b, else 0; no gradient. */
export const greater = (a: Tensor, b: Tensor): Tensor => binary('greater', 'gt', a, b, () => [null, null]);

/** x broadcast to a larger shape (a copy). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  checkTensor('broadcastTo', x);
  if (sameShape(x.shape, shape)) return reshape(x, shape);
  const joint = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(joint, shape)) fail('broadcastTo', `cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const zeros = x.engine.zeros(shape);
  const result = add(zeros, x);
  zeros.dispose();
  return result;
}
