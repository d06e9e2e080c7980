import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { convTranspose2d, type Padding } from '../ops/index.js';
import type { Pair } from './conv2d.js';
import { defaultInitRng, initialValues, uniformFanIn, type Initializer } from './init.js';
import { Module } from './module.js';
import type { Param } from './param.js';

export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** The padding of the convolution this is the transpose of (it crops the output). */
  padding?: Padding;
  /** Extra rows/columns at the bottom/right, each smaller than the stride. */
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  rng?: Rng;
  /** Default U(±1/√fanIn) with fanIn = outChannels/groups · kh · kw, as PyTorch. */
  weightInit?: Initializer;
  biasInit?: Initializer;
}

/**
 * Transposed 2-D convolution (the learned upsampling of decoders and GAN generators), weight
 * [in, out/groups, kh, kw] and optional bias [out], PyTorch's layout and output size
 * Ho = (H − 1)·sh − top − bottom + dh·(kh − 1) + outputPadding + 1 (docs/ops/conv2d.md).
 */
export class ConvTranspose2d extends Module {
  readonly weight: Param;
  readonly bias: Param | null;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number, kernelSize: Pair,
    readonly opts: ConvTranspose2dOptions = {}) {
    super(engine);
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const g = opts.groups ?? 1;
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['kernel height', kh], ['kernel width', kw], ['groups', g]] as const)
      if (!Number.isInteger(v) || v < 1) fail('ConvTranspose2d', `${k} = ${v} must be a positive integer`);
    if (inChannels % g !== 0 || outChannels % g !== 0)
      fail('ConvTranspose2d', `groups = ${g} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    const fanIn = (outChannels / g) * kh * kw;
    const rng = opts.rng ?? defaultInitRng();
    this.weight = this.param('weight', engine.tensor(
      initialValues(opts.weightInit ?? uniformFanIn, inChannels * fanIn, fanIn, rng), [inChannels, outChannels / g, kh, kw]));
    this.bias = opts.bias === false ? null
      : this.param('bias', engine.tensor(initialValues(opts.biasInit ?? uniformFanIn, outChannels, fanIn, rng), [outChannels]));
  }

  forward(x: Tensor): Tensor {
    const { stride, padding, outputPadding, dilation, groups } = this.opts;
    return convTranspose2d(x, this.weight.value, {
      ...(this.bias ? { bias: this.bias.value } : {}),
      ...(stride !== undefined ? { stride } : {}), ...(padding !== undefined ? { padding } : {}),
      ...(outputPadding !== undefined ? { outputPadding } : {}), ...(dilation !== undefined ? { dilation } : {}),
      ...(groups !== undefined ? { groups } : {}),
    });
  }
}
