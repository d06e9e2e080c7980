import type { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { avgPool2d, maxPool2d, mean, relu, reshape } from '../../ops/index.js';
import { Conv2d } from '../../nn/conv2d.js';
import { fanInNormal } from '../../nn/init.js';
import { Module } from '../../nn/module.js';
import { ResidualBlock } from '../../nn/residual.js';
import type { SeedClassifierConfig } from './config.js';

/** A feature extractor: images scaled to [0, 1] → [N, features]. */
export abstract class Body extends Module {
  abstract readonly features: number;
  abstract forward(x: Tensor): Tensor;
}

/** The paper's basic model without its head: three conv3×3 → ReLU → max-pool 2×2 stages, flattened. */
export class BasicBody extends Body {
  private readonly convs: Conv2d[] = [];
  readonly features: number;

  constructor(engine: Engine, c: SeedClassifierConfig, rng: Rng) {
    super(engine);
    let cin = c.inputShape[0];
    c.widths.forEach((w, i) => {
      this.convs.push(this.child(`conv${i}`, new Conv2d(engine, cin, w, 3, { padding: 'same', rng, weightInit: fanInNormal(2), biasInit: 'zeros' })));
      cin = w;
    });
    this.features = cin * (c.inputShape[1] / 8) * (c.inputShape[2] / 8);
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const conv of this.convs) h = maxPool2d(relu(conv.forward(h)), 2, { stride: 2 });
    return reshape(h, [h.shape[0]!, h.size / h.shape[0]!]);
  }
}

/**
 * A small ResNet: a stem conv, then one pre-activation residual block per stage (the first two
 * followed by 2×2 average pooling), ReLU and the mean over positions. Its features do not depend
 * on the image size.
 */
export class ResNetBody extends Body {
  private readonly stem: Conv2d;
  private readonly blocks: ResidualBlock[] = [];
  readonly features: number;

  constructor(engine: Engine, c: SeedClassifierConfig, rng: Rng) {
    super(engine);
    this.stem = this.child('stem', new Conv2d(engine, c.inputShape[0], c.widths[0], 3, { padding: 'same', rng, weightInit: fanInNormal(2), biasInit: 'zeros' }));
    let cin = c.widths[0];
    c.widths.forEach((w, i) => {
      this.blocks.push(this.child(`block${i}`, new ResidualBlock(engine, cin, { outChannels: w, rng })));
      cin = w;
    });
    this.features = cin;
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x);
    this.blocks.forEach((b, i) => {
      h = b.forward(h);
      if (i < 2) h = avgPool2d(h, 2, { stride: 2 });
    });
    return mean(relu(h), [2, 3]);
  }
}
