/**
 * RePaint inpainting (Lugmayr et al. 2022) with any ε-prediction denoiser: the reverse process runs
 * as usual, but after every step the known pixels are replaced by the known image noised to that
 * step's level, and at chosen points the chain jumps back up a few steps with fresh noise and
 * denoises them again, so the generated region has several chances to agree with what surrounds it
 * (docs/diffusion.md, "Inpainting with RePaint"). It works on the same respaced sub-sequence of
 * timesteps as sampleLoop (src/models/diffusion/sampler.ts) and reuses its steps.
 */
import { checkSeed, Rng } from '../../data/rng.js';
import { fail } from '../../engine/errors.js';
import { alphaBarAt, GuidedDenoiser, reverseStep, startingNoise, timestepSequence, type EpsilonModel, type SampleLoopOptions } from './sampler.js';
import type { NoiseSchedule } from './schedule.js';

/**
 * The positions RePaint visits on a sub-sequence of `steps` timesteps, from `steps` (pure noise) to
 * 0 (the clean image); consecutive positions differ by one: down is a denoiser step, up a forward
 * noising step. Every jumpLength-th position from the bottom (1, 1 + j, 1 + 2j, … while at least j
 * positions remain above it) is reached resampleCount times: after each of the first r − 1 arrivals
 * the chain climbs j positions and comes down again. With r = 1 it is the plain descent.
 */
export function repaintSchedule(steps: number, jumpLength: number, resampleCount: number): number[] {
  for (const [name, v] of [['steps', steps], ['jumpLength', jumpLength], ['resampleCount', resampleCount]] as const)
    if (!Number.isInteger(v) || v < 1) fail('repaintSchedule', `${name} = ${v} must be a positive integer`);
  const jumpsLeft = new Map<number, number>();
  for (let p = 1; p + jumpLength <= steps; p += jumpLength) jumpsLeft.set(p, resampleCount - 1);
  const path = [steps];
  let p = steps;
  while (p > 0) {
    path.push(--p);
    const left = jumpsLeft.get(p) ?? 0;
    if (left > 0) {
      jumpsLeft.set(p, left - 1);
      for (let k = 0; k < jumpLength; k++) path.push(++p);
    }
  }
  return path;
}

/** Denoiser calls of a RePaint schedule: its downward moves. */
export const repaintDenoiserSteps = (path: readonly number[]): number => path.reduce((n, p, i) => n + (i > 0 && p < path[i - 1]! ? 1 : 0), 0);

/**
 * The second random stream of RePaint: the noise of q(x_s | x_0) for the known pixels. Kept apart
 * from the sampler's stream (x_T, step noise, jump noise) so that with nothing known RePaint draws,
 * and returns, exactly what the plain sampler does.
 */
export const knownNoiseRng = (seed: number): Rng => new Rng((seed ^ 0x9e3779b9) >>> 0);

export interface RepaintLoopOptions extends SampleLoopOptions {
  /** The image whose known pixels are kept (n · C · H · W values, data units). */
  known: ArrayLike<number>;
  /** One entry per value of `known`: 1 = fill (generate), 0 = keep. */
  fill: Uint8Array;
  jumpLength: number;
  resampleCount: number;
}

/**
 * RePaint from x_T and returns x_0 (n × C × H × W, float64). Down a position p → p − 1 (timesteps
 * t → s, s = −1 at the bottom): the unknown pixels take the sampler's step (DDPM or DDIM(η), as in
 * sampleLoop) and the known ones √ᾱ_s x_known + √(1 − ᾱ_s) z — at the bottom x_known itself, so the
 * result holds the known pixels exactly. Up p → p + 1: x ← √(ᾱ_{p+1}/ᾱ_p) x + √(1 − ᾱ_{p+1}/ᾱ_p) z on
 * every pixel, the forward process between the two positions.
 */
export async function repaintLoop(model: EpsilonModel, schedule: NoiseSchedule, shape: readonly [number, number, number, number],
  o: RepaintLoopOptions): Promise<Float64Array> {
  const size = shape[0] * shape[1] * shape[2] * shape[3];
  if (o.known.length !== size || o.fill.length !== size) fail('inpaint', `the image and mask need ${size} values each`);
  const seed = checkSeed('inpaint', o.seed);
  const rng = new Rng(seed), knownRng = knownNoiseRng(seed);
  let x = startingNoise(rng, size, o.xT);
  const seq = timestepSequence(schedule.steps, o.steps);
  const alphaBar = (p: number): number => (p === 0 ? 1 : alphaBarAt(schedule, seq[p - 1]!));
  const path = repaintSchedule(o.steps, o.jumpLength, o.resampleCount);
  const total = repaintDenoiserSteps(path);
  const step = { method: o.method, eta: o.eta, clip: o.clip ?? true };
  const denoiser = new GuidedDenoiser(model, shape, o);
  let done = 0;
  try {
    for (let i = 1; i < path.length; i++) {
      const from = path[i - 1]!, to = path[i]!;
      const abFrom = alphaBar(from), abTo = alphaBar(to);
      if (to < from) {
        x = reverseStep(x, await denoiser.epsilon(x, seq[from - 1]!), abFrom, abTo, rng, step);
        const a = Math.sqrt(abTo), b = Math.sqrt(1 - abTo);
        for (let k = 0; k < size; k++) {
          if (o.fill[k]) continue;
          x[k] = to === 0 ? o.known[k]! : a * o.known[k]! + b * knownRng.normal();
        }
        o.onStep?.(++done, total);
      } else {
        const ratio = abTo / abFrom, a = Math.sqrt(ratio), b = Math.sqrt(1 - ratio);
        for (let k = 0; k < size; k++) x[k] = a * x[k]! + b * rng.normal();
      }
    }
  } finally {
    denoiser.dispose();
  }
  return x;
}
