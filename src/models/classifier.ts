import type { Engine } from '../engine/engine.js';
import { exp, logSoftmax, mean, mul, relu, reshape, squeeze } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { Conv2d } from '../nn/conv2d.js';
import { fanInNormal } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { checkSeed, Rng } from '../data/rng.js';
import { checkedCall, crossEntropy, oneHotTarget } from './classifier-calls.js';

export interface ClassifierConfig {
  kind: 'digit-classifier';
  inputShape: [number, number, number];
  classes: number;
  /** Channels of the three conv stages. */
  widths: [number, number, number];
}

export const defaultClassifier: ClassifierConfig = { kind: 'digit-classifier', inputShape: [1, 28, 28], classes: 10, widths: [16, 32, 32] };

/**
 * A small convolutional classifier on the engine: conv3×3 → ReLU → squeeze (space-to-depth as the
 * stride-2 step) twice, a third conv, then a linear layer on the flattened 7×7 map. Used to judge flow samples without a human eye.
 */
export class DigitClassifier extends Module {
  private readonly convs: Conv2d[] = [];
  private readonly fc: Linear;

  constructor(engine: Engine, readonly config: ClassifierConfig = defaultClassifier, seed = 0) {
    super(engine);
    const rng = new Rng(checkSeed('DigitClassifier', seed));
    let cin = config.inputShape[0];
    config.widths.forEach((w, i) => {
      // He init, zero bias; state-dict names conv0.weight, conv0.bias, …
      this.convs.push(this.child(`conv${i}`, new Conv2d(engine, cin, w, 3, { padding: 'same', rng, weightInit: fanInNormal(2), biasInit: 'zeros' })));
      cin = i < 2 ? 4 * w : w;
    });
    // The last feature map is flattened (not averaged): where a stroke is matters for telling digits apart.
    const features = cin * (config.inputShape[1] / 4) * (config.inputShape[2] / 4);
    this.fc = this.child('fc', new Linear(engine, features, config.classes, { rng, weightInit: fanInNormal(1), biasInit: 'zeros' }));
  }

  /** Pixel values 0…255 (dequantised or sampled pixels up to 256 are fine) → logits [N, classes]. */
  logits(pixels: Tensor): Tensor {
    return this.checked('logits', pixels, 'logit', (x) => this.logitsOf(x));
  }

  private logitsOf(pixels: Tensor): Tensor {
    const h = this.lastStage(pixels);
    return this.fc.forward(reshape(h, [h.shape[0]!, h.size / h.shape[0]!]));
  }

  private lastStage(pixels: Tensor): Tensor {
    let h = mul(pixels, 1 / 255);
    this.convs.forEach((conv, i) => {
      h = relu(conv.forward(h));
      if (i < 2) h = squeeze(h);
    });
    return h;
  }

  /**
   * The last conv stage averaged over positions, [N, widths[2]]: the feature space of the FID proxy
   * (src/models/frechet.ts). Averaged rather than flattened so that 1 000 samples estimate the
   * covariance of a 32-dimensional vector, not a 1 568-dimensional one.
   */
  features(pixels: Tensor): Tensor {
    return this.checked('features', pixels, 'feature', (x) => mean(this.lastStage(x), [2, 3]));
  }

  private checked(op: string, pixels: Tensor, what: string, fn: (x: Tensor) => Tensor): Tensor {
    const where = `DigitClassifier.${op}`;
    this.assertUsable(where);
    return checkedCall(this, where, pixels, what, fn);
  }

  /** log softmax over classes, [N, classes]. */
  logProbs(pixels: Tensor): Tensor {
    return this.checked('logProbs', pixels, 'log-probability', (x) => logSoftmax(this.logitsOf(x), 1));
  }

  /** Mean cross-entropy against one-hot labels [N, classes]. */
  loss(pixels: Tensor, oneHot: Tensor): Tensor {
    const y = oneHotTarget(this, 'DigitClassifier.loss', pixels, oneHot);
    return this.checked('loss', pixels, 'loss', (x) => crossEntropy(this.logitsOf(x), y));
  }

  /** Class probabilities as host rows. */
  async predict(pixels: Tensor): Promise<Float32Array[]> {
    const p = this.engine.scope(() => exp(this.logProbs(pixels)));
    let data: Float32Array;
    try {
      data = await p.data();
    } finally {
      p.dispose();
    }
    const k = this.config.classes;
    return Array.from({ length: data.length / k }, (_, i) => data.subarray(i * k, (i + 1) * k));
  }
}

export { oneHot } from '../layers/util.js';
