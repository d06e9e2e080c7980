import { fail, shapeStr } from './errors.js';
import { checkShape, numel, sameShape, type Shape } from './shape.js';
import type { Tensor } from './tensor.js';
import { sum } from '../ops/reduce.js';

/** The same memory under another shape with the same element count (no copy). */
export function reshape(x: Tensor, shape: Shape): Tensor {
  x.assertLive('reshape');
  const resolved = resolveReshape(x.shape, shape);
  checkShape('reshape', resolved);
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

/**
 * Sums a broadcast gradient back down to the shape of the input it came from (shapes right-aligned,
 * any rank): over g's leading axes the input lacks and the axes where the input has size 1.
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  if (lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[lead + i]))
    fail('sumTo', `bad shapes ${shapeStr(g.shape)} → ${shapeStr(shape)}`);
  const axes = g.shape.map((_, i) => i).filter((i) => g.shape[i] !== 1 && (i < lead || shape[i - lead] === 1));
  const reduced = axes.length ? sum(g, axes, true) : g;
  return reshape(reduced, shape);
}
