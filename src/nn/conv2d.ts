import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { conv2d, resolvePadding, type ConvOptions, type Padding } from '../ops/index.js';
import { defaultInitRng, initialValues, uniformFanIn, type Initializer } from './init.js';
import { Module } from './module.js';
import type { Param } from './param.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Default 1. Values ≠ 1 are passed to the conv2d op, which must support them. */
  stride?: Pair;
  /** Default 1. Values ≠ 1 are passed to the conv2d op, which must support them. */
  dilation?: Pair;
  /** Channel groups (default 1; inChannels for a depthwise convolution). */
  groups?: number;
  /** As the conv2d op: a number, [left, right, top, bottom], 'valid' (the default), 'same' or a corner. */
  padding?: Padding;
  /** A learned bias (default true). */
  bias?: boolean;
  rng?: Rng;
  /** Default: U(±1/√fanIn) for both, fanIn = inChannels/groups · kh · kw, as PyTorch. */
  weightInit?: Initializer;
  biasInit?: Initializer;
}

const pair = (v: Pair | undefined, name: string): [number, number] => {
  const p: [number, number] = v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < 1)) fail('Conv2d', `${name} = ${JSON.stringify(v)} must be a positive integer or a pair of them`);
  return p;
};

/** 2-D convolution (NCHW) with a weight [out, in/groups, kh, kw] and an optional bias [out]. */
export class Conv2d extends Module {
  readonly weight: Param;
  readonly bias: Param | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly padding: Padding | undefined;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super(engine);
    this.kernelSize = pair(kernelSize, 'kernelSize');
    this.stride = pair(opts.stride, 'stride');
    this.dilation = pair(opts.dilation, 'dilation');
    this.groups = opts.groups ?? 1;
    this.padding = opts.padding;
    const g = this.groups;
    if (!Number.isInteger(g) || g < 1 || inChannels % g !== 0 || outChannels % g !== 0)
      fail('Conv2d', `groups = ${g} must be a positive integer dividing inChannels ${inChannels} and outChannels ${outChannels}`);
    const [kh, kw] = this.kernelSize;
    const fanIn = (inChannels / g) * kh * kw;
    const rng = opts.rng ?? defaultInitRng();
    this.weight = this.param('weight', engine.tensor(
      initialValues(opts.weightInit ?? uniformFanIn, outChannels * fanIn, fanIn, rng), [outChannels, inChannels / g, kh, kw]));
    this.bias = opts.bias === false ? null
      : this.param('bias', engine.tensor(initialValues(opts.biasInit ?? uniformFanIn, outChannels, fanIn, rng), [outChannels]));
  }

  forward(x: Tensor): Tensor {
    const opts: ConvOptions & { stride?: [number, number]; dilation?: [number, number] } = {};
    if (this.bias) opts.bias = this.bias.value;
    if (this.padding !== undefined) opts.pad = this.padding;
    if (this.groups !== 1) opts.groups = this.groups;
    // Only when ≠ 1, so the call is the stride-1 one the op has always taken.
    const strided = this.stride.some((s) => s !== 1), dilated = this.dilation.some((d) => d !== 1);
    if (strided) opts.stride = this.stride;
    if (dilated) opts.dilation = this.dilation;
    const y = conv2d(x, this.weight.value, opts);
    if (strided || dilated) this.checkOutput(x, y);
    return y;
  }

  /** An op that ignores stride or dilation would return the wrong size: say so instead. */
  private checkOutput(x: Tensor, y: Tensor): void {
    const [kh, kw] = this.kernelSize, [sh, sw] = this.stride, [dh, dw] = this.dilation;
    const ekh = dh * (kh - 1) + 1, ekw = dw * (kw - 1) + 1;
    const p = resolvePadding(this.path, this.padding, ekh, ekw);
    const ho = Math.floor((x.shape[2]! + p.top + p.bottom - ekh) / sh) + 1;
    const wo = Math.floor((x.shape[3]! + p.left + p.right - ekw) / sw) + 1;
    if (y.shape[2] !== ho || y.shape[3] !== wo)
      fail(this.path, `the conv2d op returned ${shapeStr(y.shape)} for input ${shapeStr(x.shape)} with stride ${this.stride.join('×')} and dilation ${this.dilation.join('×')}, not [.., .., ${ho}, ${wo}]: this engine's conv2d does not support stride/dilation yet`);
  }
}
