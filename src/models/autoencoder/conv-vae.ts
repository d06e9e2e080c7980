/**
 * The comparator of Affine-StableSR's autoencoder: a convolutional KL-regularised VAE of Stable
 * Diffusion's kind (the AutoencoderKL of Rombach et al.), scaled to CPU size (docs/affine-stablesr.md §4).
 */
import { checkSeed, Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { NamedArray } from '../../io/safetensors.js';
import { Conv2d } from '../../nn/conv2d.js';
import { GroupNorm } from '../../nn/group-norm.js';
import { Module } from '../../nn/module.js';
import { ResidualBlock } from '../../nn/residual.js';
import { Sequential } from '../../nn/sequential.js';
import { add, affine, clamp, exp, mean, mul, resize, silu, split, square, sub, sum, sumSquares } from '../../ops/index.js';
import { checkAutoencoderConfig, latentShapeOf, type ConvVaeConfig } from './config.js';
import { encodeAutoencoder } from './format.js';
import { checkAutoencoderBudget, checkBatchArg, type AutoencoderLoss, type TrainableAutoencoder } from './latent-autoencoder.js';

/** log σ² is clamped to this range before use, as Stable Diffusion's DiagonalGaussianDistribution does. */
export const LOGVAR_RANGE = [-30, 20] as const;

export function resolveConvVaeConfig(config: unknown, op = 'ConvVae'): ConvVaeConfig {
  const checked = checkAutoencoderConfig(config);
  if (!checked.ok) fail(op, checked.problem);
  if (checked.value.kind !== 'conv-vae') fail(op, `config kind = '${checked.value.kind}' is not 'conv-vae'`);
  return checked.value;
}

const block = (engine: Engine, i: number, o: number, c: ConvVaeConfig, rng: Rng) =>
  new ResidualBlock(engine, i, { outChannels: o, activation: silu, normGroups: c.groups, rng });

/** One level of the encoder: residual blocks, then (except at the last level) a stride-2 3×3 convolution. */
class EncoderLevel extends Module {
  readonly block: Sequential;
  readonly downsample: Conv2d | null;
  constructor(engine: Engine, inCh: number, ch: number, down: boolean, c: ConvVaeConfig, rng: Rng) {
    super(engine);
    this.block = this.child('block', new Sequential(engine, Array.from({ length: c.resBlocks }, (_, b) => block(engine, b ? ch : inCh, ch, c, rng))));
    this.downsample = down ? this.child('downsample', new Conv2d(engine, ch, ch, 3, { stride: 2, padding: 1, rng })) : null;
  }
  forward(x: Tensor): Tensor {
    const h = this.block.forward(x);
    return this.downsample ? this.downsample.forward(h) : h;
  }
}

/** One level of the decoder: resBlocks + 1 residual blocks, then (except at the top) nearest ×2 and a 3×3 convolution. */
class DecoderLevel extends Module {
  readonly block: Sequential;
  readonly upsample: Conv2d | null;
  constructor(engine: Engine, inCh: number, ch: number, up: boolean, c: ConvVaeConfig, rng: Rng) {
    super(engine);
    this.block = this.child('block', new Sequential(engine, Array.from({ length: c.resBlocks + 1 }, (_, b) => block(engine, b ? ch : inCh, ch, c, rng))));
    this.upsample = up ? this.child('upsample', new Conv2d(engine, ch, ch, 3, { padding: 'same', rng })) : null;
  }
  forward(x: Tensor): Tensor {
    const h = this.block.forward(x);
    return this.upsample ? this.upsample.forward(resize(h, { mode: 'nearest', scale: 2 })) : h;
  }
}

/** Image → (mean, log σ²) of the latent, concatenated along channels. */
class VaeEncoder extends Module {
  readonly convIn: Conv2d;
  readonly down: Sequential;
  readonly mid: ResidualBlock;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;
  constructor(engine: Engine, c: ConvVaeConfig, rng: Rng) {
    super(engine);
    const chs = c.channelMults.map((m) => c.baseChannels * m), top = chs.at(-1)!;
    this.convIn = this.child('conv_in', new Conv2d(engine, c.imageShape[0], chs[0]!, 3, { padding: 'same', rng }));
    this.down = this.child('down', new Sequential(engine, chs.map((ch, l) => new EncoderLevel(engine, l ? chs[l - 1]! : chs[0]!, ch, l < chs.length - 1, c, rng))));
    this.mid = this.child('mid', block(engine, top, top, c, rng));
    this.normOut = this.child('norm_out', new GroupNorm(engine, c.groups, top));
    this.convOut = this.child('conv_out', new Conv2d(engine, top, 2 * c.latentChannels, 3, { padding: 'same', rng }));
  }
  forward(x: Tensor): Tensor {
    const h = this.mid.forward(this.down.forward(this.convIn.forward(x)));
    return this.convOut.forward(silu(this.normOut.forward(h)));
  }
}

/** Latent → image, mirroring the encoder; levels are named in the order they run (up.0 is the deepest). */
class VaeDecoder extends Module {
  readonly convIn: Conv2d;
  readonly mid: ResidualBlock;
  readonly up: Sequential;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;
  constructor(engine: Engine, c: ConvVaeConfig, rng: Rng) {
    super(engine);
    const chs = c.channelMults.map((m) => c.baseChannels * m).reverse(), top = chs[0]!;
    this.convIn = this.child('conv_in', new Conv2d(engine, c.latentChannels, top, 3, { padding: 'same', rng }));
    this.mid = this.child('mid', block(engine, top, top, c, rng));
    this.up = this.child('up', new Sequential(engine, chs.map((ch, p) => new DecoderLevel(engine, p ? chs[p - 1]! : top, ch, p < chs.length - 1, c, rng))));
    this.normOut = this.child('norm_out', new GroupNorm(engine, c.groups, chs.at(-1)!));
    this.convOut = this.child('conv_out', new Conv2d(engine, chs.at(-1)!, c.imageShape[0], 3, { padding: 'same', rng }));
  }
  forward(z: Tensor): Tensor {
    const h = this.up.forward(this.mid.forward(this.convIn.forward(z)));
    return this.convOut.forward(silu(this.normOut.forward(h)));
  }
}

export class ConvVae extends Module implements TrainableAutoencoder {
  readonly config: ConvVaeConfig;
  readonly encoder: VaeEncoder;
  readonly decoder: VaeDecoder;

  /** Builds the VAE with fresh weights (PyTorch's default init, from the seed); the config is checked first. */
  constructor(engine: Engine, config: ConvVaeConfig, opts: { seed?: number } = {}) {
    if (!engine || typeof engine.tensor !== 'function') fail('ConvVae', 'needs an engine as its first argument');
    super(engine);
    const c = resolveConvVaeConfig(config);
    checkAutoencoderBudget('ConvVae', c, 1, engine.memoryBudget);
    const rng = new Rng(checkSeed('ConvVae', opts.seed ?? 0));
    this.config = { ...c, imageShape: [...c.imageShape], channelMults: [...c.channelMults] };
    this.encoder = this.child('encoder', new VaeEncoder(engine, this.config, rng));
    this.decoder = this.child('decoder', new VaeDecoder(engine, this.config, rng));
  }

  get imageShape(): [number, number, number] { return [...this.config.imageShape]; }

  get latentShape(): [number, number, number] { return latentShapeOf(this.config); }

  private checkImages(op: string, x: unknown): void {
    this.assertUsable(op);
    const n = checkBatchArg(op, 'x', x, this.config.imageShape, 'images');
    checkAutoencoderBudget(op, this.config, n, this.engine.memoryBudget);
  }

  /** The posterior's mean and log σ² (clamped), each [N, c, h, w]. */
  private posterior(x: Tensor): [Tensor, Tensor] {
    const [m, logvar] = split(this.encoder.forward(x), [this.config.latentChannels, this.config.latentChannels]) as [Tensor, Tensor];
    return [m, clamp(logvar, LOGVAR_RANGE[0], LOGVAR_RANGE[1])];
  }

  /** Images [N, C, H, W] in [−1, 1] → the posterior mean [N, c, h, w] (deterministic). */
  encode(x: Tensor): Tensor {
    this.checkImages('ConvVae.encode', x);
    return this.engine.scope(() => this.posterior(x)[0]);
  }

  /** The posterior q(z | x): mean and log-variance. */
  moments(x: Tensor): { mean: Tensor; logVariance: Tensor } {
    this.checkImages('ConvVae.moments', x);
    return this.engine.scope(() => {
      const [m, v] = this.posterior(x);
      return { mean: m, logVariance: v };
    });
  }

  decode(z: Tensor): Tensor {
    this.assertUsable('ConvVae.decode');
    const n = checkBatchArg('ConvVae.decode', 'z', z, this.latentShape, 'latents');
    checkAutoencoderBudget('ConvVae.decode', this.config, n, this.engine.memoryBudget);
    return this.engine.scope(() => this.decoder.forward(z));
  }

  reconstruct(x: Tensor): Tensor {
    this.checkImages('ConvVae.reconstruct', x);
    return this.engine.scope(() => this.decoder.forward(this.posterior(x)[0]));
  }

  /** ε ~ N(0, I) of the latent's shape, for the reparameterised sample z = μ + σ ε. */
  drawNoise(n: number, rng: Rng): Tensor {
    return this.engine.tensor(rng.normals(n * this.latentShape.reduce((a, b) => a * b, 1)), [n, ...this.latentShape]);
  }

  /**
   * rec = mean (decode(μ + σ ε) − x)², kl = KL(q(z | x) ‖ N(0, I)) per image divided by the image's
   * values (so it is on rec's per-value scale), total = rec + β · kl.
   */
  trainingLoss(x: Tensor, noise: Tensor | null, weight: number): AutoencoderLoss {
    const [m, logvar] = this.posterior(x);
    const z = noise ? add(m, mul(exp(affine(logvar, 0.5, 0)), noise)) : m;
    const rec = mean(square(sub(this.decoder.forward(z), x)));
    const D = this.config.imageShape.reduce((a, b) => a * b, 1);
    // KL = ½ Σ (μ² + σ² − 1 − log σ²) per image.
    const kl = affine(mean(add(sumSquares(m, [1, 2, 3]), sum(sub(exp(logvar), affine(logvar, 1, 1)), [1, 2, 3]))), 0.5 / D, 0);
    return { total: add(rec, affine(kl, weight, 0)), terms: { rec, kl } };
  }

  async toBytes(): Promise<Uint8Array> {
    const tensors = new Map<string, NamedArray>();
    for (const [name, p] of this.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
    return encodeAutoencoder(this.config, tensors);
  }
}
