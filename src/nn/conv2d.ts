import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { conv2d, type ConvOptions, type Padding } from '../ops/index.js';
import { defaultInitRng, initialValues, uniformFanIn, type Initializer } from './init.js';
import { Module } from './module.js';
import type { Param } from './param.js';

export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Default 1: one number for both axes or [sh, sw]. */
  stride?: Pair;
  /** Default 1: one number for both axes or [dh, dw]. */
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
    const opts: ConvOptions = {};
    if (this.bias) opts.bias = this.bias.value;
    if (this.padding !== undefined) opts.pad = this.padding;
    if (this.groups !== 1) opts.groups = this.groups;
    // Only when ≠ 1, so a stride-1 layer makes the same call the op has always taken.
    if (this.stride.some((v) => v !== 1)) opts.stride = this.stride;
    if (this.dilation.some((v) => v !== 1)) opts.dilation = this.dilation;
    return conv2d(x, this.weight.value, opts);
  }
}
