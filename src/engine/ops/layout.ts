import { fail, shapeStr } from '../errors.js';
import { normaliseAxis, to4 } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { checkImage } from '../../ops/util/checks.js';

/** Joins tensors along an axis (default 1, channels); all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis = 1): Tensor {
  if (xs.length === 0) fail('concat', 'needs at least one tensor');
  const first = xs[0]!;
  const rank = first.rank;
  const ax = normaliseAxis('concat', axis, rank);
  for (const x of xs) {
    x.assertLive('concat');
    if (x.rank !== rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i]))
      fail('concat', `shapes ${xs.map((t) => shapeStr(t.shape)).join(', ')} differ outside axis ${ax}`);
  }
  const outShape = first.shape.map((d, i) => (i === ax ? xs.reduce((s, t) => s + t.shape[ax]!, 0) : d));
  const offset = 4 - rank;
  const sizes = xs.map((t) => t.shape[ax]!);
  return first.engine.run('concat', {
    inputs: xs, outShape, attrs: { axis: ax + offset },
    kernelInputShapes: xs.map((t) => to4(t.shape)), kernelOutShape: to4(outShape),
    grad: (dy) => {
      let start = 0;
      return sizes.map((size) => {
        const g = slice(dy, ax, start, size);
        start += size;
        return g;
      });
    },
  });
}

/** x[..., start : start + size, ...] along one axis (a copy). */
export function slice(x: Tensor, axis: number, start: number, size: number): Tensor {
  x.assertLive('slice');
  const ax = normaliseAxis('slice', axis, x.rank);
  const len = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > len)
    fail('slice', `range [${start}, ${start + size}) is outside axis ${ax} of ${shapeStr(x.shape)}`);
  const outShape = x.shape.map((d, i) => (i === ax ? size : d));
  const offset = 4 - x.rank;
  return x.engine.run('slice', {
    inputs: [x], outShape, attrs: { axis: ax + offset, start },
    kernelInputShapes: [to4(x.shape)], kernelOutShape: to4(outShape),
    grad: (dy, [xin]) => {
      const parts: Tensor[] = [];
      const e = xin!.engine;
      const zerosOf = (n: number) => e.zeros(xin!.shape.map((d, i) => (i === ax ? n : d)));
      if (start > 0) parts.push(zerosOf(start));
      parts.push(dy);
      if (start + size < len) parts.push(zerosOf(len - start - size));
      return [parts.length === 1 ? dy : concat(parts, ax)];
    },
  });
}

/** Splits along an axis into pieces of the given sizes, or into n equal pieces. */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 1): Tensor[] {
  const ax = normaliseAxis('split', axis, x.rank);
  const len = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (len % sizesOrCount !== 0) fail('split', `axis ${ax} of ${shapeStr(x.shape)} does not split into ${sizesOrCount} equal parts`);
    sizes = new Array<number>(sizesOrCount).fill(len / sizesOrCount);
  } else sizes = [...sizesOrCount];
  if (sizes.reduce((a, b) => a + b, 0) !== len) fail('split', `sizes [${sizes}] do not add up to axis ${ax} of ${shapeStr(x.shape)}`);
  let start = 0;
  return sizes.map((s) => {
    const part = slice(x, ax, start, s);
    start += s;
    return part;
  });
}


/** Space-to-depth by 2: (C, H, W) → (4C, H/2, W/2), new channel 4c + 2dy + dx. */
export function squeeze(x: Tensor): Tensor {
  checkImage('squeeze', x);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (H % 2 || W % 2) fail('squeeze', `height and width of ${shapeStr(x.shape)} must be even`);
  return x.engine.run('squeeze', { inputs: [x], outShape: [N, 4 * C, H / 2, W / 2], attrs: {}, grad: (dy) => [unsqueeze(dy)] });
}

/** Depth-to-space by 2: the exact inverse of squeeze. */
export function unsqueeze(x: Tensor): Tensor {
  checkImage('unsqueeze', x);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (C % 4) fail('unsqueeze', `channels of ${shapeStr(x.shape)} must be a multiple of 4`);
  return x.engine.run('unsqueeze', { inputs: [x], outShape: [N, C / 4, 2 * H, 2 * W], attrs: {}, grad: (dy) => [squeeze(dy)] });
}
