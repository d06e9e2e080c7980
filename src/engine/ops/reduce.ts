import type { ReduceFn } from '../../backends/backend.js';
import { fail, shapeStr } from '../errors.js';
import { normaliseAxis, to4 } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, equal, mul } from './elementwise.js';
import { reshape } from './shape-ops.js';

/**
 * Reduces over `axes` (all axes when omitted). keepDims keeps reduced axes as size 1; otherwise
 * they are removed (reducing everything gives a scalar, shape []).
 */
function reduce(fn: ReduceFn, x: Tensor, axes: readonly number[] | undefined, keepDims: boolean): Tensor {
  x.assertLive(fn);
  const rank = x.rank;
  const own = axes === undefined ? [...Array(rank).keys()] : axes.map((a) => normaliseAxis(fn, a, rank));
  if (new Set(own).size !== own.length) fail(fn, `axes [${axes}] repeat an axis of ${shapeStr(x.shape)}`);
  const offset = 4 - rank;
  const axes4 = own.map((a) => a + offset).sort();
  const x4 = to4(x.shape);
  const out4 = x4.map((d, i) => (axes4.includes(i) ? 1 : d));
  const kept = x.shape.map((d, i) => (own.includes(i) ? 1 : d));
  // The kernel writes the final shape directly: reshaping a keep-dims result would leave that
  // result alive after the caller disposes the reshape (outside a scope, a leak per call).
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !own.includes(i));
  return x.engine.run('reduce', {
    inputs: [x], outShape, attrs: { fn, axes: axes4 },
    kernelInputShapes: [x4], kernelOutShape: out4,
    grad: (dy, [xin], y) => [reduceGrad(fn, keepDims ? dy : reshape(dy, kept), xin!, keepDims ? y : reshape(y, kept))],
  });
}

/** dy and y have the keep-dims shape, so they broadcast against x. */
function reduceGrad(fn: ReduceFn, dy: Tensor, x: Tensor, y: Tensor): Tensor {
  switch (fn) {
    case 'sum': return add(x.engine.zeros(x.shape), dy);
    case 'mean': return add(x.engine.zeros(x.shape), mul(dy, y.size / x.size));
    case 'sumSquares': return mul(mul(x, dy), 2);
    // Every position equal to the maximum receives the gradient.
    case 'max': return mul(equal(x, y), dy);
  }
}

export const sum = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('mean', x, axes, keepDims);
export const sumSquares = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor =>
  reduce('sumSquares', x, axes, keepDims);
export const max = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('max', x, axes, keepDims);
