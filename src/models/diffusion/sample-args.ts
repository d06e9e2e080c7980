/**
 * The argument checks of DiffusionModel.sample and .inpaint: every option is checked before
 * anything runs, and a bad one is one InflowError line naming it (`DiffusionModel.sample: steps = 0
 * must be …`), as the flows' methods do (src/models/guards.ts).
 */
import { checkSeed } from '../../data/rng.js';
import { describeValue, fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { checkEnum, checkLabels, checkTensorArg } from '../guards.js';
import { DIFFUSION_LIMITS, type DiffusionModelConfig, type SamplerKind } from './schema.js';

/** The options both sample and inpaint take. */
export interface SamplingArgs {
  /** Denoiser steps on the evenly spaced sub-sequence (default: the file's sampler.steps). */
  steps?: number;
  /** DDIM's noise scale in [0, 1] (default: the file's; 0 deterministic given x_T). Not used by 'ddpm'. */
  eta?: number;
  /** Classifier-free guidance scale in [0, 100] on the class label (default: the file's); 1 = conditional model alone, 0 = unconditional. */
  guidance?: number;
  method?: SamplerKind;
  /** Classes of the images, cycled if fewer than n (class-conditional models; default 0, 1, …, classes − 1, 0, …). */
  labels?: ArrayLike<number>;
  /**
   * The image condition of an image-conditioned model (required there, refused elsewhere):
   * [n, channels, H, W] in the model's data units, as a Tensor or n · channels · H · W numbers.
   */
  cond?: Tensor | ArrayLike<number>;
  /** Seed (0 … 2³² − 1) of x_T and of the steps' noise (default 0). */
  seed?: number;
  /** The starting noise x_T, n · C · H · W values (default: drawn from the seed). */
  xT?: ArrayLike<number>;
  /** Clamp the predicted x_0 to [−1, 1] at every step (default true). */
  clip?: boolean;
  /** 'pixels' (default): 0…255 as the PNG writer and the digit classifier take them; 'data': the model's [−1, 1]. */
  output?: 'pixels' | 'data';
  /** Progress: called after each denoiser step with (done, total). */
  onStep?: (done: number, total: number) => void;
}

export const SAMPLING_KEYS = ['steps', 'eta', 'guidance', 'method', 'labels', 'cond', 'seed', 'xT', 'clip', 'output', 'onStep'];

export interface CheckedSampling {
  steps: number;
  eta: number;
  guidance: number;
  method: SamplerKind;
  seed: number;
  output: 'pixels' | 'data';
  clip?: boolean;
  onStep?: (done: number, total: number) => void;
  labels: number[] | null;
  xT?: ArrayLike<number>;
  cond?: { values: Float64Array; channels: number };
  /** Images through the denoiser at once: 2n when guidance runs both passes. */
  batch: number;
}

/** Checks the shared options for n images of a model with this config; `method` falls back to `defaultMethod`, then the file's. */
export async function checkSampling(op: string, config: DiffusionModelConfig, count: number, o: SamplingArgs,
  defaultMethod?: SamplerKind): Promise<CheckedSampling> {
  const d = config.sampler, T = config.schedule.steps, classes = config.unet.classes;
  const steps = o.steps ?? d.steps;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > T)
    fail(op, `steps = ${describeValue(steps)} must be an integer from 1 to ${T} (the schedule's timesteps)`);
  const eta = o.eta ?? d.eta;
  if (typeof eta !== 'number' || !(eta >= 0 && eta <= 1)) fail(op, `eta = ${describeValue(eta)} must be a number from 0 to 1 (0: deterministic DDIM, 1: DDPM's variance)`);
  const guidance = o.guidance ?? (classes ? d.guidance : 1);
  if (typeof guidance !== 'number' || !(guidance >= 0 && guidance <= DIFFUSION_LIMITS.guidance))
    fail(op, `guidance = ${describeValue(guidance)} must be a number from 0 to ${DIFFUSION_LIMITS.guidance} (1: the conditional model alone)`);
  const method = checkEnum(op, 'method', o.method, ['ddim', 'ddpm']) ?? defaultMethod ?? d.method;
  const seed = o.seed === undefined ? 0 : checkSeed(op, o.seed);
  const output = checkEnum(op, 'output', o.output, ['pixels', 'data']) ?? 'pixels';
  if (o.clip !== undefined && typeof o.clip !== 'boolean') fail(op, `clip = ${describeValue(o.clip)} must be true or false`);
  if (o.onStep !== undefined && typeof o.onStep !== 'function') fail(op, `onStep = ${describeValue(o.onStep)} must be a function`);
  let labels: number[] | null = null;
  if (classes) {
    const given = o.labels === undefined ? Array.from({ length: Math.min(count, classes) }, (_, i) => i) : Array.from(checkLabels(op, o.labels, classes));
    if (given.length === 0) fail(op, 'labels is empty: give one class per image, or fewer to cycle through');
    if (given.length > count) fail(op, `${given.length} labels for ${count} images: give one class per image, or fewer to cycle through`);
    labels = Array.from({ length: count }, (_, i) => given[i % given.length]!);
  } else {
    if (o.labels !== undefined) fail(op, 'labels were given but the model is unconditional (train it with classes)');
    if (guidance !== 1) fail(op, `guidance = ${guidance} needs a class-conditional model; this one is unconditional (use 1)`);
  }
  const u = config.unet, C = u.inChannels, S = u.imageSize;
  if (o.xT !== undefined) {
    const ok = Array.isArray(o.xT) || (ArrayBuffer.isView(o.xT) && !(o.xT instanceof DataView));
    if (!ok || o.xT.length !== count * C * S * S) fail(op, `xT must be ${count * C * S * S} numbers (n × ${C} × ${S} × ${S}), got ${describeValue(o.xT)}`);
    for (let i = 0; i < o.xT.length; i++) if (!Number.isFinite(o.xT[i])) fail(op, `xT[${i}] = ${describeValue(o.xT[i])} is not a finite number`);
  }
  let cond: CheckedSampling['cond'];
  const cc = u.condChannels ?? 0;
  if (cc > 0) {
    if (o.cond === undefined) {
      const task = config.conditioning?.task;
      fail(op, `this model is image-conditioned${task && task !== 'image' ? ` (${task})` : ''}: give cond, [${count}, ${cc}, ${S}, ${S}] in the model's data units`);
    }
    cond = { values: (await imageArg(op, 'cond', o.cond, count, [cc], S, S)).values, channels: cc };
  } else if (o.cond !== undefined) fail(op, 'cond was given but the model is not image-conditioned (its config has no conditioning)');
  return {
    steps, eta, guidance, method, seed, output, labels, batch: labels && guidance !== 1 && guidance !== 0 ? 2 * count : count,
    ...(o.clip !== undefined ? { clip: o.clip } : {}), ...(o.onStep ? { onStep: o.onStep } : {}), ...(o.xT ? { xT: o.xT } : {}), ...(cond ? { cond } : {}),
  };
}

/**
 * An image-shaped argument: a Tensor [n, c, H, W] with c one of `channels`, or an array / typed
 * array of n · c · H · W numbers (n = null: any whole number of images, taken from its length).
 * Returns its values (float64) and shape; every value must be finite.
 */
export async function imageArg(op: string, name: string, v: unknown, n: number | null, channels: readonly number[], H: number, W: number)
  : Promise<{ values: Float64Array; shape: [number, number, number, number] }> {
  const want = `[${n ?? 'n'}, ${channels.join(' or ')}, ${H}, ${W}]`;
  let values: Float64Array, shape: [number, number, number, number];
  const isArray = Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  if (isArray) {
    const len = (v as ArrayLike<number>).length;
    const c = channels.find((ch) => (n === null ? len > 0 && len % (ch * H * W) === 0 : len === n * ch * H * W));
    if (c === undefined) {
      const sizes = channels.map((ch) => (n === null ? `a multiple of ${ch * H * W}` : `${n * ch * H * W}`)).join(' or ');
      fail(op, `${name} must be ${want}: ${sizes} numbers, got ${len}`);
    }
    shape = [len / (c * H * W), c, H, W];
    values = Float64Array.from(v as ArrayLike<number>);
  } else {
    if (v === null || typeof v !== 'object' || typeof (v as Tensor).dispose !== 'function')
      fail(op, `${name} must be a Tensor ${want} or an array of numbers, got ${describeValue(v)}`);
    const t = checkTensorArg(op, name, v);
    const s = t.shape;
    if (s.length !== 4 || (n !== null && s[0] !== n) || !channels.includes(s[1]!) || s[2] !== H || s[3] !== W || s[0]! < 1)
      fail(op, `${name} must be ${want}, got ${shapeStr(s)}`);
    shape = [s[0]!, s[1]!, H, W];
    values = (await t.data64()).slice(0, t.size);
  }
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) fail(op, `${name}[${i}] = ${describeValue(values[i])} is not a finite number`);
  return { values, shape };
}
