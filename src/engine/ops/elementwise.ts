import type { BinaryFn, UnaryFn } from '../../backends/backend.js';
import type { GradFn } from '../engine.js';
import { fail } from '../errors.js';
import { broadcastShapes, sameShape, to4, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { reshape, sumTo } from './shape-ops.js';

function unary(x: Tensor, fn: UnaryFn, grad: GradFn | undefined, alpha = 0, beta = 0): Tensor {
  const s4 = to4(x.shape);
  return x.engine.run('unary', {
    inputs: [x], outShape: x.shape, attrs: { fn, alpha, beta },
    kernelInputShapes: [s4], kernelOutShape: s4, grad,
  });
}

export const neg = (x: Tensor): Tensor => unary(x, 'neg', (dy) => [neg(dy)]);
export const exp = (x: Tensor): Tensor => unary(x, 'exp', (dy, _i, y) => [mul(dy, y)]);
export const log = (x: Tensor): Tensor => unary(x, 'log', (dy, [a]) => [div(dy, a!)]);
export const sigmoid = (x: Tensor): Tensor =>
  unary(x, 'sigmoid', (dy, _i, y) => [mul(dy, mul(y, affine(y, -1, 1)))]);
export const tanh = (x: Tensor): Tensor => unary(x, 'tanh', (dy, _i, y) => [mul(dy, affine(square(y), -1, 1))]);
export const relu = (x: Tensor): Tensor => unary(x, 'relu', (dy, [a]) => [mul(dy, step(a!))]);
export const softplus = (x: Tensor): Tensor => unary(x, 'softplus', (dy, [a]) => [mul(dy, sigmoid(a!))]);
export const square = (x: Tensor): Tensor => unary(x, 'square', (dy, [a]) => [mul(dy, affine(a!, 2, 0))]);
export const sqrt = (x: Tensor): Tensor => unary(x, 'sqrt', (dy, _i, y) => [div(affine(dy, 0.5, 0), y)]);
export const abs = (x: Tensor): Tensor => unary(x, 'abs', (dy, [a]) => [mul(dy, sign(a!))]);
/** −1, 0 or 1; its gradient is zero almost everywhere. */
export const sign = (x: Tensor): Tensor => unary(x, 'sign', () => [null]);
/** 1 where x > 0, else 0; its gradient is zero almost everywhere. */
export const step = (x: Tensor): Tensor => unary(x, 'step', () => [null]);
export const reciprocal = (x: Tensor): Tensor =>
  unary(x, 'reciprocal', (dy, _i, y) => [neg(mul(dy, square(y)))]);
/** alpha · x + beta in one kernel. */
export const affine = (x: Tensor, alpha: number, beta: number): Tensor => {
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) fail('affine', `scalars must be finite (got ${alpha}, ${beta})`);
  return unary(x, 'affine', (dy) => [affine(dy, alpha, 0)], alpha, beta);
};

/** Output of a broadcasting binary op, with each input's gradient summed back to its own shape. */
function binary(op: BinaryFn, a: Tensor, b: Tensor, grad: ((dy: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null]) | undefined): Tensor {
  const outShape = broadcastShapes(op, a.shape, b.shape);
  if (a.engine !== b.engine) fail(op, `${a} and ${b} live on different engines`);
  return a.engine.run('binary', {
    inputs: [a, b], outShape, attrs: { fn: op },
    kernelInputShapes: [to4(a.shape), to4(b.shape)], kernelOutShape: to4(outShape),
    grad: grad && ((dy, [x, z], y) => {
      const [ga, gb] = grad(dy, x!, z!, y);
      return [ga && sumTo(ga, x!.shape), gb && sumTo(gb, z!.shape)];
    }),
  });
}

type Operand = Tensor | number;

export function add(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  return binary('add', a, b, (dy) => [dy, dy]);
}
export function sub(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  return binary('sub', a, b, (dy) => [dy, neg(dy)]);
}
export function mul(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  return binary('mul', a, b, (dy, x, z) => [mul(dy, z), mul(dy, x)]);
}
export function div(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') {
    if (b === 0) fail('div', 'division by the scalar 0');
    return affine(a, 1 / b, 0);
  }
  return binary('div', a, b, (dy, _x, z, y) => [div(dy, z), neg(div(mul(dy, y), z))]);
}
/** Elementwise maximum; ties send the gradient to a. */
export const maximum = (a: Tensor, b: Tensor): Tensor =>
  binary('max', a, b, (dy, x, z) => {
    const bWins = greater(z, x);
    return [mul(dy, affine(bWins, -1, 1)), mul(dy, bWins)];
  });
/** Elementwise minimum; ties send the gradient to a. */
export const minimum = (a: Tensor, b: Tensor): Tensor =>
  binary('min', a, b, (dy, x, z) => {
    const bWins = greater(x, z);
    return [mul(dy, affine(bWins, -1, 1)), mul(dy, bWins)];
  });
export const equal = (a: Tensor, b: Tensor): Tensor => binary('eq', a, b, () => [null, null]);
export const greater = (a: Tensor, b: Tensor): Tensor => binary('gt', a, b, () => [null, null]);

/** x broadcast to a larger shape (a copy). */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return reshape(x, shape);
  const joint = broadcastShapes('broadcastTo', x.shape, shape);
  if (!sameShape(joint, shape)) fail('broadcastTo', `cannot broadcast [${x.shape.join(', ')}] to [${shape.join(', ')}]`);
  const zeros = x.engine.zeros(shape);
  const result = add(zeros, x);
  zeros.dispose();
  return result;
}
