/**
 * Sampling from an ε-prediction denoiser (docs/diffusion.md): DDPM ancestral steps (Ho et al.
 * 2020), DDIM steps with noise scale η on any sub-sequence of the timesteps (Song et al. 2021),
 * and classifier-free guidance (Ho & Salimans 2022). The denoiser runs on the engine; the update
 * between two of its calls is a few multiply-adds per pixel, done on the host in float64, so every
 * backend takes the same step from the same ε̂ and the step formulas can be checked exactly.
 */
import { checkSeed, Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { NoiseSchedule } from './schedule.js';
import type { SamplerKind } from './schema.js';

/** What the sampler calls: ε̂ = forward(x_t, t, labels, cond), t the schedule index 0…T−1 (the UNet of src/models/unet). */
export interface EpsilonModel {
  readonly engine: Engine;
  forward(x: Tensor, t: ArrayLike<number>, labels?: ArrayLike<number>, cond?: Tensor): Tensor;
}

/**
 * The `steps` timesteps a sampler visits, increasing: τ_i = round((i + 1) · T / steps) − 1, so the
 * last is T − 1 (pure noise) and steps = T gives every timestep (the "trailing" spacing).
 */
export function timestepSequence(T: number, steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) fail('timestepSequence', `steps = ${steps} must be an integer from 1 to ${T}`);
  return Array.from({ length: steps }, (_, i) => Math.round(((i + 1) * T) / steps) - 1);
}

/** ᾱ at schedule index t; ᾱ_{−1} = 1 (the clean image, after the last step). */
export const alphaBarAt = (s: NoiseSchedule, t: number): number => (t < 0 ? 1 : s.alphaBars[t]!);

/**
 * The variance of one step from ᾱ_t to ᾱ_s (s < t), as DDPM's posterior q(x_s | x_t, x_0) has it
 * on the respaced chain (β = 1 − ᾱ_t/ᾱ_s; with s = t − 1 it is β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t).
 * DDIM's σ² is η² times this.
 */
export function posteriorVariance(abT: number, abS: number): number {
  return ((1 - abS) / (1 - abT)) * (1 - abT / abS);
}

/**
 * The mean coefficients of DDPM's posterior q(x_s | x_t, x_0) = N(c0 · x_0 + ct · x_t, σ²):
 * c0 = √ᾱ_s β / (1 − ᾱ_t), ct = √α (1 − ᾱ_s) / (1 − ᾱ_t), with α = ᾱ_t/ᾱ_s and β = 1 − α.
 */
export function posteriorCoefficients(abT: number, abS: number): { c0: number; ct: number; variance: number } {
  const alpha = abT / abS, beta = 1 - alpha;
  return { c0: (Math.sqrt(abS) * beta) / (1 - abT), ct: (Math.sqrt(alpha) * (1 - abS)) / (1 - abT), variance: posteriorVariance(abT, abS) };
}

/**
 * x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t; with `clip` it is clamped to the data range [−1, 1] and ε̂
 * re-derived from the clamped x̂_0, so that x_t = √ᾱ_t x̂_0 + √(1 − ᾱ_t) ε̂ still holds and both step
 * kinds see the same pair. Returns [x̂_0, ε̂] (ε̂ is the input array when not clipping).
 */
export function predictX0(xt: Float64Array, eps: Float64Array, abT: number, clip: boolean): [Float64Array, Float64Array] {
  const a = Math.sqrt(abT), b = Math.sqrt(1 - abT);
  const x0 = new Float64Array(xt.length), e = clip ? new Float64Array(xt.length) : eps;
  for (let i = 0; i < xt.length; i++) {
    let v = (xt[i]! - b * eps[i]!) / a;
    if (clip) {
      v = v < -1 ? -1 : v > 1 ? 1 : v;
      e[i] = (xt[i]! - a * v) / b;
    }
    x0[i] = v;
  }
  return [x0, e];
}

/** One DDIM step's mean √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ and its σ = η √posteriorVariance. */
export function ddimMean(x0: Float64Array, eps: Float64Array, abT: number, abS: number, eta: number): { mean: Float64Array; sigma: number } {
  const sigma = eta * Math.sqrt(posteriorVariance(abT, abS));
  const a = Math.sqrt(abS), b = Math.sqrt(Math.max(0, 1 - abS - sigma * sigma));
  const mean = new Float64Array(x0.length);
  for (let i = 0; i < x0.length; i++) mean[i] = a * x0[i]! + b * eps[i]!;
  return { mean, sigma };
}

/** One DDPM ancestral step's mean c0 x̂_0 + ct x_t and its σ = √posteriorVariance. */
export function ddpmMean(x0: Float64Array, xt: Float64Array, abT: number, abS: number): { mean: Float64Array; sigma: number } {
  const { c0, ct, variance } = posteriorCoefficients(abT, abS);
  const mean = new Float64Array(x0.length);
  for (let i = 0; i < x0.length; i++) mean[i] = c0 * x0[i]! + ct * xt[i]!;
  return { mean, sigma: Math.sqrt(variance) };
}

/** An image condition for every image of the batch: n · channels · H · W values in the model's data units. */
export interface SampleCondition {
  values: ArrayLike<number>;
  channels: number;
}

export interface SampleLoopOptions {
  method: SamplerKind;
  steps: number;
  eta: number;
  /** Guidance scale w (needs labels): ε̂ = ε̂_∅ + w (ε̂_y − ε̂_∅); 1 runs the conditional model alone, 0 the unconditional alone. */
  guidance: number;
  /** One label per image (class-conditional denoisers), or null. */
  labels: readonly number[] | null;
  /** The "no label" index of the denoiser's class embedding. */
  nullLabel: number;
  /** The image condition of image-conditioned denoisers (the same at every step; guidance acts on labels only). */
  cond?: SampleCondition;
  /** Clamp x̂_0 to [−1, 1] at every step (default true). */
  clip?: boolean;
  seed: number;
  /** The starting noise x_T (n · per values); default drawn from the seed. */
  xT?: ArrayLike<number>;
  /** Called after each denoiser step with (done, total). */
  onStep?: (done: number, total: number) => void;
  /** The UNet replicated on threads, in place of `model`'s own pass: the same ε̂ bits, the batch split between the replicas. */
  replicas?: ReplicaDenoiser;
}

/** A replicated UNet (DataParallel, src/parallel/data-parallel.ts) and the step that turns its output into ε̂ (prediction.ts epsilonOf). */
export interface ReplicaDenoiser {
  denoise(x: Float32Array, shape: readonly number[], t: readonly number[], opts: { labels?: readonly number[]; cond?: { data: Float32Array; shape: number[] } }): Promise<Float32Array>;
  toEpsilon(x: Tensor, y: Tensor, t: readonly number[]): Tensor;
}

/** x_T: the given values, or n · per normals drawn first from the run's RNG. */
export function startingNoise(rng: Rng, size: number, xT: ArrayLike<number> | undefined): Float64Array {
  if (!xT) return Float64Array.from({ length: size }, () => rng.normal());
  if (xT.length !== size) fail('sample', `xT has ${xT.length} values, the batch needs ${size}`);
  return Float64Array.from(xT);
}

/**
 * One reverse step from timestep t to s (s = −1: to the clean image) of the chosen sampler, given
 * ε̂ at x_t: x̂_0 (clamped with `clip`), then the DDIM or DDPM mean plus σ times fresh N(0, I) from
 * `rng` (nothing drawn when σ = 0).
 */
export function reverseStep(x: Float64Array, eps: Float64Array, abT: number, abS: number, rng: Rng,
  o: { method: SamplerKind; eta: number; clip: boolean }): Float64Array {
  const [x0, e] = predictX0(x, eps, abT, o.clip);
  const { mean, sigma } = o.method === 'ddim' ? ddimMean(x0, e, abT, abS, o.eta) : ddpmMean(x0, x, abT, abS);
  if (sigma > 0) for (let i = 0; i < mean.length; i++) mean[i]! += sigma * rng.normal();
  return mean;
}

/**
 * Runs the reverse process from x_T ~ N(0, I) and returns x_0 (n × C × H × W, float64, in [−1, 1]
 * when clipping). The RNG, seeded once, draws x_T first (unless given) and then one N(0, I) per
 * pixel for every step with σ > 0: DDIM with η = 0 draws nothing after x_T, and DDIM with η = 1 on
 * a sequence of steps draws exactly what DDPM on the same sequence draws.
 */
export async function sampleLoop(model: EpsilonModel, schedule: NoiseSchedule, shape: readonly [number, number, number, number],
  o: SampleLoopOptions): Promise<Float64Array> {
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  const rng = new Rng(checkSeed('sample', o.seed));
  let x = startingNoise(rng, size, o.xT);
  const seq = timestepSequence(schedule.steps, o.steps);
  const step = { method: o.method, eta: o.eta, clip: o.clip ?? true };
  const denoiser = new GuidedDenoiser(model, shape, o);
  try {
    for (let k = seq.length - 1; k >= 0; k--) {
      const t = seq[k]!, s = k > 0 ? seq[k - 1]! : -1;
      x = reverseStep(x, await denoiser.epsilon(x, t), alphaBarAt(schedule, t), alphaBarAt(schedule, s), rng, step);
      o.onStep?.(seq.length - k, seq.length);
    }
  } finally {
    denoiser.dispose();
  }
  return x;
}

/**
 * ε̂ for a whole batch at one timestep, guided: one pass for w = 1 (or no labels) and w = 0, else
 * conditional and unconditional in one batch of 2n. The image condition, if any, is uploaded once
 * (twice over for the 2n batch) and given to every pass.
 */
export class GuidedDenoiser {
  private readonly engine: Engine;
  private cond: Tensor | null = null;
  private condTwice: Tensor | null = null;
  /** The image condition on the host, for the replicas: by batch size (n, or 2n with guidance). */
  private readonly condHost = new Map<number, { data: Float32Array; shape: number[] }>();

  constructor(private readonly model: EpsilonModel, private readonly shape: readonly [number, number, number, number],
    private readonly o: Pick<SampleLoopOptions, 'guidance' | 'labels' | 'nullLabel' | 'cond' | 'replicas'>) {
    this.engine = model.engine;
    const c = o.cond;
    if (c) {
      const [n, , H, W] = shape, per = c.channels * H * W;
      if (c.values.length !== n * per) fail('sample', `cond has ${c.values.length} values, the batch needs ${n * per}`);
      const values = Float64Array.from(c.values);
      const twice = o.labels && o.guidance !== 1 && o.guidance !== 0 ? new Float64Array(2 * values.length) : null;
      twice?.set(values);
      twice?.set(values, values.length);
      if (o.replicas) {
        // Float32 as engine.tensor rounds them: the replicas see the condition the model's own pass would.
        this.condHost.set(n, { data: Float32Array.from(values), shape: [n, c.channels, H, W] });
        if (twice) this.condHost.set(2 * n, { data: Float32Array.from(twice), shape: [2 * n, c.channels, H, W] });
        return;
      }
      this.cond = this.engine.tensor(values, [n, c.channels, H, W]);
      if (twice) this.condTwice = this.engine.tensor(twice, [2 * n, c.channels, H, W]);
    }
  }

  async epsilon(x: Float64Array, t: number): Promise<Float64Array> {
    const n = this.shape[0], w = this.o.guidance, labels = this.o.labels;
    const nulls = (): number[] => new Array<number>(n).fill(this.o.nullLabel);
    if (!labels) return this.run(x, n, undefined, this.cond, t);
    if (w === 1) return this.run(x, n, [...labels], this.cond, t);
    if (w === 0) return this.run(x, n, nulls(), this.cond, t);
    const both = new Float64Array(2 * x.length);
    both.set(x);
    both.set(x, x.length);
    const e = await this.run(both, 2 * n, [...labels, ...nulls()], this.condTwice, t);
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const c = e[i]!, u = e[x.length + i]!;
      out[i] = u + w * (c - u);
    }
    return out;
  }

  private async run(values: Float64Array, batch: number, labels: number[] | undefined, cond: Tensor | null, t: number): Promise<Float64Array> {
    const { engine, model, shape } = this, replicas = this.o.replicas;
    const dims = [batch, shape[1], shape[2], shape[3]], ts = new Array<number>(batch).fill(t);
    let out: Tensor;
    if (replicas) {
      const x = Float32Array.from(values), c = this.condHost.get(batch);
      const y = await replicas.denoise(x, dims, ts, { ...(labels ? { labels } : {}), ...(c ? { cond: c } : {}) });
      out = engine.noGrad(() => engine.scope(() => replicas.toEpsilon(engine.tensor(x, dims), engine.tensor(y, dims), ts)));
    } else out = engine.noGrad(() => engine.scope(() => {
      const xt = engine.tensor(values, dims);
      return cond ? model.forward(xt, ts, labels, cond) : model.forward(xt, ts, labels);
    }));
    try {
      return (await out.data64()).subarray(0, out.size);
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.cond?.dispose();
    this.condTwice?.dispose();
  }
}
