import { fail, shapeStr } from '../errors.js';
import { numel, sameShape, to4, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sum } from './reduce.js';

/** The same memory under another shape with the same element count (no copy). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  x.assertLive('reshape');
  const resolved = resolveReshape(x.shape, shape);
  const engine = x.engine;
  const out = engine.share(x, resolved);
  engine.recordView(x, out, (dy) => [reshape(dy, x.shape)]);
  return out;
}

function resolveReshape(from: Shape, to: Shape): Shape {
  const free = to.filter((d) => d === -1).length;
  if (free > 1) fail('reshape', `shape ${shapeStr(to)} has more than one -1`);
  const known = to.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = free ? to.map((d) => (d === -1 ? numel(from) / known : d)) : to;
  if (numel(resolved) !== numel(from) || resolved.some((d) => !Number.isInteger(d) || d < 1))
    fail('reshape', `cannot reshape ${shapeStr(from)} (${numel(from)} elements) to ${shapeStr(to)}`);
  return resolved;
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const g4 = to4(g.shape), s4 = to4(shape);
  if (g.shape.length > 4 || shape.length > g.shape.length + 4) fail('sumTo', `bad shapes ${shapeStr(g.shape)} → ${shapeStr(shape)}`);
  const axes = [0, 1, 2, 3].filter((i) => s4[i] === 1 && g4[i] !== 1);
  const reduced = axes.length ? sum(reshape(g, g4), axes, true) : g;
  return reshape(reduced, shape);
}
