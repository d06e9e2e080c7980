import type { Engine } from '../engine/engine.js';
import { add, conv2d, exp, log, matmul, max, mean, mul, relu, reshape, squeeze, sub, sum } from '../engine/ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from '../layers/module.js';
import type { Param } from '../layers/param.js';
import { Rng } from '../data/rng.js';

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
  private readonly convs: Array<{ w: Param; b: Param }> = [];
  private readonly fcW: Param;
  private readonly fcB: Param;

  constructor(engine: Engine, readonly config: ClassifierConfig = defaultClassifier, seed = 0) {
    super(engine);
    const rng = new Rng(seed);
    let cin = config.inputShape[0];
    config.widths.forEach((w, i) => {
      const fan = cin * 9;
      const weight = this.param(`conv${i}.weight`, engine.tensor(rng.normals(w * fan, Math.sqrt(2 / fan)), [w, cin, 3, 3]));
      const bias = this.param(`conv${i}.bias`, engine.zeros([w]));
      this.convs.push({ w: weight, b: bias });
      cin = i < 2 ? 4 * w : w;
    });
    // The last feature map is flattened (not averaged): where a stroke is matters for telling digits apart.
    const features = cin * (config.inputShape[1] / 4) * (config.inputShape[2] / 4);
    this.fcW = this.param('fc.weight', engine.tensor(rng.normals(features * config.classes, Math.sqrt(1 / features)), [features, config.classes]));
    this.fcB = this.param('fc.bias', engine.zeros([config.classes]));
  }

  /** Pixel values 0…255 → logits [N, classes]. */
  logits(pixels: Tensor): Tensor {
    let h = mul(pixels, 1 / 255);
    this.convs.forEach(({ w, b }, i) => {
      h = relu(conv2d(h, w.value, { bias: b.value, pad: 'same' }));
      if (i < 2) h = squeeze(h);
    });
    return add(matmul(reshape(h, [h.shape[0]!, h.size / h.shape[0]!]), this.fcW.value), this.fcB.value);
  }

  /** log softmax over classes, [N, classes]. */
  logProbs(pixels: Tensor): Tensor {
    const z = this.logits(pixels);
    const shifted = sub(z, max(z, [1], true));
    return sub(shifted, log(sum(exp(shifted), [1], true)));
  }

  /** Mean cross-entropy against one-hot labels [N, classes]. */
  loss(pixels: Tensor, oneHot: Tensor): Tensor {
    return mul(mean(sum(mul(this.logProbs(pixels), oneHot), [1])), -1);
  }

  /** Class probabilities as host rows. */
  async predict(pixels: Tensor): Promise<Float32Array[]> {
    const p = this.engine.scope(() => exp(this.logProbs(pixels)));
    const data = await p.data();
    p.dispose();
    const k = this.config.classes;
    return Array.from({ length: data.length / k }, (_, i) => data.subarray(i * k, (i + 1) * k));
  }
}

export { oneHot } from '../layers/util.js';
