import type { Pad4 } from '../../backends/backend.js';
import { fail, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { reshape } from './shape-ops.js';

/**
 * Padding of a stride-1 convolution: a number (all sides), [left, right, top, bottom], a Pad4,
 * 'valid' (none), 'same' (output size = input size; the extra pixel of an even kernel goes right/bottom)
 * or a corner: 'tl' | 'tr' | 'bl' | 'br' pads k−1 on the named sides (docs/flows.md §3).
 */
export type Padding = number | readonly [number, number, number, number] | Pad4 | 'valid' | 'same' | 'tl' | 'tr' | 'bl' | 'br';

export function resolvePadding(op: string, pad: Padding | undefined, kh: number, kw: number): Pad4 {
  let p: Pad4;
  if (pad === undefined || pad === 'valid') p = { left: 0, right: 0, top: 0, bottom: 0 };
  else if (pad === 'same') {
    const h = kh - 1, w = kw - 1;
    p = { left: w >> 1, right: w - (w >> 1), top: h >> 1, bottom: h - (h >> 1) };
  } else if (pad === 'tl') p = { left: kw - 1, right: 0, top: kh - 1, bottom: 0 };
  else if (pad === 'tr') p = { left: 0, right: kw - 1, top: kh - 1, bottom: 0 };
  else if (pad === 'bl') p = { left: kw - 1, right: 0, top: 0, bottom: kh - 1 };
  else if (pad === 'br') p = { left: 0, right: kw - 1, top: 0, bottom: kh - 1 };
  else if (typeof pad === 'number') p = { left: pad, right: pad, top: pad, bottom: pad };
  else if (Array.isArray(pad)) p = { left: pad[0]!, right: pad[1]!, top: pad[2]!, bottom: pad[3]! };
  else if (typeof pad === 'object') p = pad as Pad4;
  else fail(op, `unsupported padding ${JSON.stringify(pad)}`);
  for (const [side, v] of Object.entries(p))
    if (!Number.isInteger(v) || v < 0) fail(op, `padding ${side} = ${v}: paddings are non-negative integers`);
  if (p.left >= kw || p.right >= kw || p.top >= kh || p.bottom >= kh)
    fail(op, `padding ${JSON.stringify(p)} is not smaller than the ${kh}×${kw} kernel (a padded row or column would see only zeros)`);
  return p;
}

export interface ConvOptions {
  bias?: Tensor;
  pad?: Padding;
  groups?: number;
}

interface ConvGeometry {
  pad: Pad4;
  groups: number;
  outShape: [number, number, number, number];
}

function geometry(op: string, xShape: readonly number[], wShape: readonly number[], pad: Padding | undefined, groups = 1): ConvGeometry {
  if (xShape.length !== 4) fail(op, `input must be rank 4 [N, C, H, W], got ${shapeStr(xShape)}`);
  if (wShape.length !== 4) fail(op, `weight must be rank 4 [Cout, Cin/groups, kh, kw], got ${shapeStr(wShape)}`);
  const [N, Ci, H, W] = xShape as [number, number, number, number];
  const [Co, Cig, kh, kw] = wShape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1) fail(op, `groups = ${groups} must be a positive integer`);
  if (Ci % groups !== 0 || Co % groups !== 0)
    fail(op, `groups = ${groups} must divide input channels ${Ci} and output channels ${Co} (input ${shapeStr(xShape)}, weight ${shapeStr(wShape)})`);
  if (Cig !== Ci / groups)
    fail(op, `weight ${shapeStr(wShape)} expects ${Cig * groups} input channels but input ${shapeStr(xShape)} has ${Ci}`);
  const p = resolvePadding(op, pad, kh, kw);
  const Ho = H + p.top + p.bottom - kh + 1, Wo = W + p.left + p.right - kw + 1;
  if (Ho < 1 || Wo < 1) fail(op, `kernel ${kh}×${kw} is larger than the padded input ${shapeStr(xShape)}`);
  return { pad: p, groups, outShape: [N, Co, Ho, Wo] };
}

/** Stride-1 2-D cross-correlation (NCHW), explicit zero padding, optional bias and groups. */
export function conv2d(x: Tensor, w: Tensor, opts: ConvOptions = {}): Tensor {
  x.assertLive('conv2d');
  w.assertLive('conv2d');
  const g = geometry('conv2d', x.shape, w.shape, opts.pad, opts.groups);
  const inputs = [x, w];
  if (opts.bias) {
    if (opts.bias.rank !== 1 || opts.bias.shape[0] !== g.outShape[1])
      fail('conv2d', `bias ${shapeStr(opts.bias.shape)} must be [${g.outShape[1]}] for weight ${shapeStr(w.shape)}`);
    inputs.push(opts.bias);
  }
  const attrs = { pad: g.pad, groups: g.groups };
  return x.engine.run('conv2d', {
    inputs, outShape: g.outShape, attrs: { ...attrs, hasBias: !!opts.bias },
    grad: (dy, [xin, win]) => [
      conv2dGradInput(dy, win!, xin!.shape, attrs),
      conv2dGradFilter(xin!, dy, win!.shape, attrs),
      ...(opts.bias ? [reshape(sum(dy, [0, 2, 3]), [g.outShape[1]])] : []),
    ],
  });
}

/** The adjoint of conv2d in its input: maps an output gradient back to the input's shape. */
export function conv2dGradInput(dy: Tensor, w: Tensor, xShape: readonly number[], attrs: { pad: Pad4; groups: number }): Tensor {
  const g = geometry('conv2dGradInput', xShape, w.shape, attrs.pad, attrs.groups);
  if (dy.shape.join() !== g.outShape.join())
    fail('conv2dGradInput', `gradient ${shapeStr(dy.shape)} does not match the convolution output ${shapeStr(g.outShape)}`);
  return dy.engine.run('conv2dGradInput', {
    inputs: [dy, w], outShape: xShape, attrs,
    grad: (ddx, [dyin, win]) => [conv2d(ddx, win!, attrs), conv2dGradFilter(ddx, dyin!, win!.shape, attrs)],
  });
}

/** The adjoint of conv2d in its weight: the weight gradient from the input and the output gradient. */
export function conv2dGradFilter(x: Tensor, dy: Tensor, wShape: readonly number[], attrs: { pad: Pad4; groups: number }): Tensor {
  const g = geometry('conv2dGradFilter', x.shape, wShape, attrs.pad, attrs.groups);
  if (dy.shape.join() !== g.outShape.join())
    fail('conv2dGradFilter', `gradient ${shapeStr(dy.shape)} does not match the convolution output ${shapeStr(g.outShape)}`);
  return x.engine.run('conv2dGradFilter', {
    inputs: [x, dy], outShape: wShape, attrs,
    grad: (ddw, [xin, dyin]) => [conv2dGradInput(dyin!, ddw, xin!.shape, attrs), conv2d(xin!, ddw, attrs)],
  });
}
