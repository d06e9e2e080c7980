import type { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import type { SpectralNorm } from '../../nn/spectral-norm.js';
import { add, avgPool2d, relu, resize } from '../../ops/index.js';
import { ConditionalBatchNorm2d } from './conditional-batch-norm.js';
import { snConv } from './spectral.js';

/**
 * BigGAN's generator block (docs/gan.md §3): CBN → ReLU → ×2 nearest → conv3×3 → CBN → ReLU →
 * conv3×3, plus a 1×1 convolution of the upsampled input; every conv spectrally normalised.
 */
export class GeneratorBlock extends Module {
  readonly norm1: ConditionalBatchNorm2d;
  readonly conv1: SpectralNorm<Conv2d>;
  readonly norm2: ConditionalBatchNorm2d;
  readonly conv2: SpectralNorm<Conv2d>;
  readonly skip: SpectralNorm<Conv2d>;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number, condDim: number, rng: Rng) {
    super(engine);
    this.norm1 = this.child('norm1', new ConditionalBatchNorm2d(engine, inChannels, condDim));
    this.conv1 = this.child('conv1', snConv(engine, inChannels, outChannels, 3, rng));
    this.norm2 = this.child('norm2', new ConditionalBatchNorm2d(engine, outChannels, condDim));
    this.conv2 = this.child('conv2', snConv(engine, outChannels, outChannels, 3, rng));
    this.skip = this.child('skip', snConv(engine, inChannels, outChannels, 1, rng));
  }

  /** x [N, in, H, W], cond [N, condDim] → [N, out, 2H, 2W]. */
  forward(x: Tensor, cond: Tensor): Tensor {
    const up = (t: Tensor) => resize(t, { scale: 2 });
    let h = this.conv1.forward(up(relu(this.norm1.forward(x, cond))));
    h = this.conv2.forward(relu(this.norm2.forward(h, cond)));
    return add(h, this.skip.forward(up(x)));
  }
}

export interface DiscriminatorBlockOptions {
  /** Halve the resolution with a 2×2 average pool (default true). */
  downsample?: boolean;
  /** ReLU in front of the first conv (default true; false for the block that sees the image). */
  preactivation?: boolean;
}

/**
 * BigGAN's discriminator block (docs/gan.md §3): [ReLU →] conv3×3 → ReLU → conv3×3 [→ avg-pool],
 * plus a shortcut (pool and a 1×1 conv when the width changes or it pools; identity otherwise).
 */
export class DiscriminatorBlock extends Module {
  readonly conv1: SpectralNorm<Conv2d>;
  readonly conv2: SpectralNorm<Conv2d>;
  readonly skip: SpectralNorm<Conv2d> | null;
  readonly downsample: boolean;
  readonly preactivation: boolean;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number, rng: Rng, opts: DiscriminatorBlockOptions = {}) {
    super(engine);
    this.downsample = opts.downsample ?? true;
    this.preactivation = opts.preactivation ?? true;
    this.conv1 = this.child('conv1', snConv(engine, inChannels, outChannels, 3, rng));
    this.conv2 = this.child('conv2', snConv(engine, outChannels, outChannels, 3, rng));
    this.skip = inChannels !== outChannels || this.downsample ? this.child('skip', snConv(engine, inChannels, outChannels, 1, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    const pool = (t: Tensor) => (this.downsample ? avgPool2d(t, 2) : t);
    let h = this.conv1.forward(this.preactivation ? relu(x) : x);
    h = pool(this.conv2.forward(relu(h)));
    // A 1×1 conv and an average pool commute; pooling first is 4× less work.
    const s = this.skip ? this.skip.forward(pool(x)) : x;
    return add(h, s);
  }
}
