/**
 * The two things a diffusion UNet may predict (docs/diffusion.md, "v-prediction"): the noise ε, or
 * the velocity v = √ᾱ_t ε − √(1 − ᾱ_t) x_0. The samplers and RePaint speak ε only; a v-model is
 * put in front of them through the exact identity ε = √(1 − ᾱ_t) x_t + √ᾱ_t v, so every step
 * formula, guidance (linear in the output, so it commutes with the conversion) and clipping stay
 * one piece of code.
 */
import type { Engine } from '../../engine/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { add, mul, sub } from '../../ops/index.js';
import type { EpsilonModel } from './sampler.js';
import type { NoiseSchedule } from './schedule.js';
import type { PredictionKind } from './schema.js';

/** Per-example coefficients f(ᾱ_t) as an [n, 1, 1, 1] tensor (`rank` dimensions after the batch). */
export function perExample(engine: Engine, schedule: NoiseSchedule, t: ArrayLike<number>, rank: number, f: (alphaBar: number) => number): Tensor {
  return engine.tensor(Float64Array.from(t, (ti) => f(schedule.alphaBars[ti]!)), [t.length, ...new Array<number>(rank).fill(1)]);
}

/**
 * The training target for x_t = a x_0 + b ε (a = √ᾱ_t, b = √(1 − ᾱ_t), both [n, 1, …]): ε itself,
 * or v = a ε − b x_0. Returns `eps` unchanged for ε-prediction (the caller owns it either way).
 */
export function predictionTarget(kind: PredictionKind, x0: Tensor, eps: Tensor, a: Tensor, b: Tensor): Tensor {
  return kind === 'v' ? sub(mul(eps, a), mul(x0, b)) : eps;
}

/** ε̂ from a v-model's output on the host, in float64: √(1 − ᾱ) x_t + √ᾱ v̂ (the reference of the engine version below). */
export function epsilonFromV(xt: ArrayLike<number>, v: ArrayLike<number>, alphaBar: number): Float64Array {
  const a = Math.sqrt(alphaBar), b = Math.sqrt(1 - alphaBar);
  return Float64Array.from(xt, (x, i) => b * x + a * v[i]!);
}

/** The model as the samplers see it: the UNet itself for ε-prediction, else a wrapper that turns v̂ into ε̂ on the engine. */
export function asEpsilonModel(unet: EpsilonModel, schedule: NoiseSchedule, kind: PredictionKind): EpsilonModel {
  if (kind === 'epsilon') return unet;
  const engine = unet.engine;
  return {
    engine,
    forward(x: Tensor, t: ArrayLike<number>, labels?: ArrayLike<number>, cond?: Tensor): Tensor {
      return epsilonOf(engine, schedule, kind, x, cond ? unet.forward(x, t, labels, cond) : unet.forward(x, t, labels), t);
    },
  };
}

/** ε̂ from the UNet's output y at x_t: y itself for ε-prediction, √(1 − ᾱ_t) x_t + √ᾱ_t y for v (the same ops wherever y was computed). */
export function epsilonOf(engine: Engine, schedule: NoiseSchedule, kind: PredictionKind, x: Tensor, y: Tensor, t: ArrayLike<number>): Tensor {
  if (kind === 'epsilon') return y;
  const rank = x.shape.length - 1;
  return add(mul(x, perExample(engine, schedule, t, rank, (ab) => Math.sqrt(1 - ab))), mul(y, perExample(engine, schedule, t, rank, Math.sqrt)));
}
