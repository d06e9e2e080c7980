/**
 * Affine-StableSR's lightweight autoencoder (docs/affine-stablesr.md): an invertible flow of
 * squeezes and affine coupling steps maps the image to as many values as it has; the first
 * `latentChannels` channels at H/4 × W/4 are the latent, the rest are factored out. Decoding
 * predicts the factored channels from the latent (the mean of a conditional Gaussian, as a split
 * prior does) and runs the flow's exact inverse.
 */
import { checkSeed, Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { ActNorm } from '../../layers/actnorm.js';
import { Conv1x1LU } from '../../layers/conv1x1-lu.js';
import { CouplingNet } from '../../layers/coupling-net.js';
import { layerFromConfig } from '../../layers/registry.js';
import { FlowSequence } from '../../layers/sequence.js';
import { Squeeze } from '../../layers/squeeze.js';
import { deinterleave } from '../../layers/util.js';
import { Module, type LoadStateOptions, type StateValue } from '../../nn/module.js';
import { add, affine, concat, exp, mean, mul, neg, split, square, sub, sum, sumSquares } from '../../ops/index.js';
import type { NamedArray } from '../../io/safetensors.js';
import { checkAutoencoderConfig, latentShapeOf, type CouplingAutoencoderConfig } from './config.js';
import { encodeAutoencoder } from './format.js';
import { checkAutoencoderBudget, checkBatchArg, type AutoencoderLoss, type TrainableAutoencoder } from './latent-autoencoder.js';
import { couplingSteps, factoredChannels } from './shapes.js';
import { trainableDecode } from './trainable-inverse.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Half a pixel level either side in [−1, 1] (levels are 2/255 apart): the dequantisation noise of the likelihood term. */
export const DEQUANTIZATION_HALF_WIDTH = 1 / 255;

/** A config checked by the schema (the constructor's and the loader's), else one line naming the field. */
export function resolveCouplingConfig(config: unknown, op = 'CouplingAutoencoder'): CouplingAutoencoderConfig {
  const checked = checkAutoencoderConfig(config);
  if (!checked.ok) fail(op, checked.problem);
  if (checked.value.kind !== 'coupling-autoencoder') fail(op, `config kind = '${checked.value.kind}' is not 'coupling-autoencoder'`);
  return checked.value;
}

export class CouplingAutoencoder extends Module implements TrainableAutoencoder {
  readonly config: CouplingAutoencoderConfig;
  /** squeeze0, level0 (steps at 4C channels), squeeze1, level1 (steps at 16C channels). */
  readonly flow: FlowSequence;
  /** z ↦ interleaved (μ, log σ) of the factored channels; zero-initialised output, so it starts at N(0, I). */
  readonly prior: CouplingNet;

  /** Builds the flow with fresh weights (seeded; the LU permutations are the config's when it has them). */
  constructor(engine: Engine, config: CouplingAutoencoderConfig, opts: { seed?: number } = {}) {
    if (!engine || typeof engine.tensor !== 'function') fail('CouplingAutoencoder', 'needs an engine as its first argument');
    super(engine);
    const c = resolveCouplingConfig(config);
    checkAutoencoderBudget('CouplingAutoencoder', c, 1, engine.memoryBudget);
    const rng = new Rng(checkSeed('CouplingAutoencoder', opts.seed ?? 0));
    const steps = couplingSteps(c).map((s) => layerFromConfig(engine, s, rng));
    const level = (from: number, to: number) => new FlowSequence(engine, steps.slice(from, to).map((l, i) => [String(i), l]));
    this.flow = this.child('flow', new FlowSequence(engine, [
      ['squeeze0', new Squeeze(engine)], ['level0', level(0, c.steps)], ['squeeze1', new Squeeze(engine)], ['level1', level(c.steps, 2 * c.steps)],
    ]));
    this.prior = this.child('prior', new CouplingNet(engine, { inChannels: c.latentChannels, outChannels: 2 * factoredChannels(c), width: c.priorWidth }, rng));
    const lu = this.modules().filter((m): m is Conv1x1LU => m instanceof Conv1x1LU).map((m) => ({ perm: [...m.config.perm], sign: [...m.config.sign] }));
    this.config = { ...c, imageShape: [...c.imageShape], lu };
  }

  get imageShape(): [number, number, number] { return [...this.config.imageShape]; }

  get latentShape(): [number, number, number] { return latentShapeOf(this.config); }

  /** Channels factored out at H/4 × W/4 (16C − latentChannels). */
  get factoredChannels(): number { return factoredChannels(this.config); }

  private splitLatent(y: Tensor): [Tensor, Tensor] {
    return split(y, [this.config.latentChannels, this.factoredChannels]) as [Tensor, Tensor];
  }

  private gaussian(z: Tensor): [Tensor, Tensor] {
    return deinterleave(this.prior.forward(z));
  }

  private checkImages(op: string, x: unknown): number {
    this.assertUsable(op);
    const n = checkBatchArg(op, 'x', x, this.config.imageShape, 'images');
    checkAutoencoderBudget(op, this.config, n, this.engine.memoryBudget);
    return n;
  }

  private checkLatents(op: string, name: string, z: unknown, channels = this.config.latentChannels): number {
    this.assertUsable(op);
    const [, h, w] = this.latentShape;
    const n = checkBatchArg(op, name, z, [channels, h, w], channels === this.config.latentChannels ? 'latents' : 'factored channels');
    checkAutoencoderBudget(op, this.config, n, this.engine.memoryBudget);
    return n;
  }

  /** Images [N, C, H, W] in [−1, 1] → latents [N, c, H/4, W/4]: the flow's kept channels. */
  encode(x: Tensor): Tensor {
    this.checkImages('CouplingAutoencoder.encode', x);
    return this.engine.scope(() => this.splitLatent(this.flow.encode(x).y)[0]);
  }

  /** Latents → images: the factored channels set to their predicted mean μ(z), then the flow's inverse. */
  decode(z: Tensor): Tensor {
    this.checkLatents('CouplingAutoencoder.decode', 'z', z);
    return this.engine.scope(() => this.flow.decode(concat([z, this.gaussian(z)[0]])));
  }

  /** decode(encode(x)): not x itself, since the factored channels are replaced by their prediction. */
  reconstruct(x: Tensor): Tensor {
    this.checkImages('CouplingAutoencoder.reconstruct', x);
    return this.engine.scope(() => {
      const z = this.splitLatent(this.flow.encode(x).y)[0];
      return this.flow.decode(concat([z, this.gaussian(z)[0]]));
    });
  }

  /** The whole bijection: the latent, the factored channels and log|det ∂(z, rest)/∂x| per image. flowDecode inverts it exactly. */
  flowEncode(x: Tensor): { z: Tensor; rest: Tensor; logdet: Tensor } {
    this.checkImages('CouplingAutoencoder.flowEncode', x);
    return this.engine.scope(() => {
      const { y, logdet } = this.flow.encode(x);
      const [z, rest] = this.splitLatent(y);
      return { z, rest, logdet };
    });
  }

  flowDecode(z: Tensor, rest: Tensor): Tensor {
    const n = this.checkLatents('CouplingAutoencoder.flowDecode', 'z', z);
    if (this.checkLatents('CouplingAutoencoder.flowDecode', 'rest', rest, this.factoredChannels) !== n)
      fail('CouplingAutoencoder.flowDecode', `z has ${n} images, rest ${rest.shape[0]}`);
    return this.engine.scope(() => this.flow.decode(concat([z, rest])));
  }

  /** The factored channels' Gaussian given the latent: mean μ(z) and log-scale log σ(z), each [N, 16C − c, H/4, W/4]. */
  predictFactored(z: Tensor): { mean: Tensor; logScale: Tensor } {
    this.checkLatents('CouplingAutoencoder.predictFactored', 'z', z);
    return this.engine.scope(() => {
      const [m, s] = this.gaussian(z);
      return { mean: m, logScale: s };
    });
  }

  /** Sets the actnorms from this batch (the flows' data-dependent initialisation), as a fresh run's first step would. */
  initialize(x: Tensor): void {
    this.checkImages('CouplingAutoencoder.initialize', x);
    this.engine.noGrad(() => this.engine.scope(() => { this.flow.encode(x); }));
  }

  /** Uniform dequantisation noise of half a pixel level either side (the likelihood term's, docs/affine-stablesr.md §2). */
  drawNoise(n: number, rng: Rng): Tensor {
    const size = n * this.config.imageShape.reduce((a, b) => a * b, 1);
    return this.engine.tensor(rng.uniforms(size, -DEQUANTIZATION_HALF_WIDTH, DEQUANTIZATION_HALF_WIDTH), [n, ...this.config.imageShape]);
  }

  /**
   * rec = mean (x̂ − x)² with x̂ = f⁻¹(z, μ(z)), (z, rest) = f(x + u); with weight λ > 0 also the
   * negative log-likelihood per dimension (nats) of x + u under the flow: rest ~ N(μ(z), σ(z)²),
   * z ~ N(0, I), plus −log|det|; total = rec + λ · nll. The inverse is differentiated through the
   * LU 1×1s too (trainable-inverse.ts).
   */
  trainingLoss(x: Tensor, noise: Tensor | null, weight: number): AutoencoderLoss {
    const xIn = noise ? add(x, noise) : x;
    const { y, logdet } = this.flow.encode(xIn);
    const [z, rest] = this.splitLatent(y);
    const [mu, logSigma] = this.gaussian(z);
    const xHat = trainableDecode(this.flow, concat([z, mu]));
    const rec = mean(square(sub(xHat, x)));
    if (!(weight > 0)) return { total: rec, terms: { rec } };
    const D = this.config.imageShape.reduce((a, b) => a * b, 1);
    const nllRest = add(affine(sumSquares(mul(sub(rest, mu), exp(neg(logSigma))), [1, 2, 3]), 0.5, 0.5 * (rest.size / rest.shape[0]!) * LOG_2PI),
      sum(logSigma, [1, 2, 3]));
    const nllZ = affine(sumSquares(z, [1, 2, 3]), 0.5, 0.5 * (z.size / z.shape[0]!) * LOG_2PI);
    const nll = affine(mean(sub(add(nllRest, nllZ), logdet)), 1 / D, 0);
    return { total: add(rec, affine(nll, weight, 0)), terms: { rec, nll } };
  }

  /** Loaded weights replace the actnorms' data-dependent initialisation. */
  override loadStateDict(state: ReadonlyMap<string, StateValue>, opts?: LoadStateOptions): void {
    super.loadStateDict(state, opts);
    for (const m of this.modules()) if (m instanceof ActNorm) m.initialized = true;
  }

  async toBytes(): Promise<Uint8Array> {
    const tensors = new Map<string, NamedArray>();
    for (const [name, p] of this.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
    return encodeAutoencoder(this.config, tensors);
  }
}
