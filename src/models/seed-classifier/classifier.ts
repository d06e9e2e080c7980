import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { exp, logSoftmax, mean, mul, reshape } from '../../ops/index.js';
import { fanInNormal } from '../../nn/init.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { checkSeed, Rng } from '../../data/rng.js';
import { checkTensorArg } from '../guards.js';
import { checkedCall, crossEntropy, oneHotTarget } from '../classifier-calls.js';
import { BasicBody, ResNetBody, type Body } from './bodies.js';
import { checkSeedClassifierConfig, defaultSeedClassifier, type SeedClassifierConfig } from './config.js';
import { McDropout } from './mc-dropout.js';

export interface ForwardOptions {
  /** Keep dropout on even in eval mode: one Monte-Carlo pass (a new mask on every call). */
  mcDropout?: boolean;
  /** A consistent Monte-Carlo pass (one dropout mask shared by every image, drawn from this seed; McDropout.forwardShared); overrides mcDropout. */
  mcSeed?: number;
}

/** The probabilities of `passes` Monte-Carlo dropout passes over N images. */
export interface McPrediction {
  passes: number;
  classes: number;
  /** [passes, N, classes], row-major: the input of BALD and BatchBALD. */
  probs: Float32Array;
  /** Mean over the passes, one row per image. */
  mean: Float32Array[];
}

/**
 * A seed-purity classifier (config.ts): a feature body, dropout, one linear layer. Pixels 0…255
 * in, logits out. Dropout follows the module's train / eval mode unless a call asks for a
 * Monte-Carlo pass explicitly.
 */
export class SeedClassifier extends Module {
  private readonly body: Body;
  private readonly drop: McDropout;
  private readonly fc: Linear;

  constructor(engine: Engine, readonly config: SeedClassifierConfig = defaultSeedClassifier, seed = 0) {
    super(engine);
    checkSeedClassifierConfig(config);
    const rng = new Rng(checkSeed('SeedClassifier', seed));
    this.body = this.child('body', config.arch === 'basic' ? new BasicBody(engine, config, rng) : new ResNetBody(engine, config, rng));
    this.drop = this.child('drop', new McDropout(engine, config.dropout, seed));
    this.fc = this.child('fc', new Linear(engine, this.body.features, config.classes, { rng, weightInit: fanInNormal(1), biasInit: 'zeros' }));
  }

  /** Pixel values 0…255 [N, C, H, W] → logits [N, classes]. */
  logits(pixels: Tensor, opts: ForwardOptions = {}): Tensor {
    return this.checked('logits', pixels, 'logit', (x) => this.logitsOf(x, opts));
  }

  private logitsOf(pixels: Tensor, opts: ForwardOptions): Tensor {
    const features = this.body.forward(mul(pixels, 1 / 255));
    return this.fc.forward(opts.mcSeed !== undefined ? this.drop.forwardShared(features, opts.mcSeed) : this.drop.forwardMc(features, opts.mcDropout === true));
  }

  /**
   * The last conv stage averaged over positions, [N, widths[2]] (no dropout): the feature space of
   * the FID proxy (src/models/frechet.ts, scripts/gan-quality.ts). Averaged as DigitClassifier's,
   * so 1 000 samples estimate the covariance of 64 numbers, not of the basic body's 1 024.
   */
  features(pixels: Tensor): Tensor {
    return this.checked('features', pixels, 'feature', (x) => {
      const h = this.body.forward(mul(x, 1 / 255)), w = this.config.widths[2];
      // The basic body flattens [N, w, H/8, W/8] channel by channel; the ResNet body has already averaged.
      return this.config.arch === 'basic' ? mean(reshape(h, [h.shape[0]!, w, h.shape[1]! / w]), [2]) : h;
    });
  }

  /** log softmax over classes, [N, classes]. */
  logProbs(pixels: Tensor, opts: ForwardOptions = {}): Tensor {
    return this.checked('logProbs', pixels, 'log-probability', (x) => logSoftmax(this.logitsOf(x, opts), 1));
  }

  /** Mean cross-entropy against one-hot labels [N, classes] (dropout as the mode says: on in training). */
  loss(pixels: Tensor, oneHot: Tensor): Tensor {
    const y = oneHotTarget(this, 'SeedClassifier.loss', pixels, oneHot);
    return this.checked('loss', pixels, 'loss', (x) => crossEntropy(this.logitsOf(x, {}), y));
  }

  /** Class probabilities as host rows (one pass; deterministic in eval mode unless mcDropout). */
  async predict(pixels: Tensor, opts: ForwardOptions = {}): Promise<Float32Array[]> {
    const data = await this.probs(pixels, opts);
    const k = this.config.classes;
    return Array.from({ length: data.length / k }, (_, i) => data.subarray(i * k, (i + 1) * k));
  }

  /**
   * `passes` Monte-Carlo dropout passes: every pass's probabilities and their mean. With `seed`,
   * pass t is the consistent pass of mask seed seed + t (the same thinned network for every image
   * and on every call), which BatchBALD needs; without it each image draws its own masks.
   */
  async mcPredict(pixels: Tensor, passes: number, opts: { seed?: number } = {}): Promise<McPrediction> {
    if (!Number.isSafeInteger(passes) || passes < 1) fail('SeedClassifier.mcPredict', `passes = ${passes} must be a positive integer`);
    // Mask seeds are philox keys: any integer below 2^53 (the dropout op checks the same).
    if (opts.seed !== undefined && !(Number.isSafeInteger(opts.seed) && opts.seed >= 0 && opts.seed + passes <= Number.MAX_SAFE_INTEGER))
      fail('SeedClassifier.mcPredict', `seed = ${opts.seed} must be an integer from 0 to 2^53 − passes`);
    const k = this.config.classes, n = checkTensorArg('SeedClassifier.mcPredict', 'pixels', pixels).shape[0]!;
    const probs = new Float32Array(passes * n * k);
    for (let t = 0; t < passes; t++) probs.set(await this.probs(pixels, opts.seed !== undefined ? { mcSeed: opts.seed + t } : { mcDropout: true }), t * n * k);
    const avg = new Float32Array(n * k);
    for (let i = 0; i < probs.length; i++) avg[i % (n * k)]! += probs[i]! / passes;
    return { passes, classes: k, probs, mean: Array.from({ length: n }, (_, i) => avg.subarray(i * k, (i + 1) * k)) };
  }

  private async probs(pixels: Tensor, opts: ForwardOptions): Promise<Float32Array> {
    const p = this.engine.scope(() => exp(this.logProbs(pixels, opts)));
    try {
      return await p.data();
    } finally {
      p.dispose();
    }
  }

  private checked(op: string, pixels: Tensor, what: string, fn: (x: Tensor) => Tensor): Tensor {
    const where = `SeedClassifier.${op}`;
    this.assertUsable(where);
    return checkedCall(this, where, pixels, what, fn);
  }

}
