/**
 * A diffusion model: a UNet that predicts the noise, its noise schedule and the sampler defaults,
 * saved as one inflow model file of its own format (docs/model-files.md, docs/diffusion.md). The
 * file follows the flows' rules: the config is checked by a schema before anything is built, the
 * tensors must be exactly the UNet's parameters, checksums are verified, the weights must be finite
 * and the model must fit the memory budget.
 */
import { checkBudget, resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { describeValue, fail, InflowError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { checkTensors } from '../../io/model-bytes.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, parseBoundedJson, type NamedArray } from '../../io/safetensors.js';
import { checkSeed } from '../../data/rng.js';
import { checkCount, checkEnum, checkLabels, checkOptions, CORRUPT } from '../guards.js';
import { MAX_JSON_DEPTH } from '../schema.js';
import { unetActivationBytes, unetParamCount, unetParamShapes } from '../unet/shapes.js';
import { UNet } from '../unet/unet.js';
import { sampleLoop } from './sampler.js';
import { noiseSchedule, type NoiseSchedule } from './schedule.js';
import { checkDiffusionConfig, DIFFUSION_LIMITS, type DiffusionModelConfig, type SamplerKind } from './schema.js';

/** The `inflow.format` of a diffusion model file (flows use inflow-model-1). */
export const DIFFUSION_FORMAT = 'inflow-diffusion-1';
const FORMAT_KEY = 'inflow.format';
const CONFIG_KEY = 'inflow.config';

export interface DiffusionSampleOptions {
  /** Denoiser evaluations (default: the file's sampler.steps); DDIM and DDPM both run on an evenly spaced sub-sequence of the T timesteps. */
  steps?: number;
  /** DDIM's noise scale in [0, 1] (default: the file's; 0 deterministic given x_T). Not used by 'ddpm'. */
  eta?: number;
  /** Classifier-free guidance scale in [0, 100] (default: the file's); 1 = conditional model alone, 0 = unconditional. */
  guidance?: number;
  method?: SamplerKind;
  /** Classes of the images, cycled if fewer than n (class-conditional models; default 0, 1, …, classes − 1, 0, …). */
  labels?: ArrayLike<number>;
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

const SAMPLE_KEYS = ['steps', 'eta', 'guidance', 'method', 'labels', 'seed', 'xT', 'clip', 'output', 'onStep'];

/** A config with the sampler defaults filled in and everything checked; throws one line naming the field. */
export function resolveDiffusionConfig(config: unknown, op = 'DiffusionModel'): DiffusionModelConfig {
  const checked = checkDiffusionConfig(config);
  if (!checked.ok) fail(op, checked.problem);
  return checked.value;
}

/** The UNet's weights plus `images` images' activations (with guidance, twice the batch) must fit the budget. */
function checkDiffusionBudget(op: string, config: DiffusionModelConfig, images: number, budget: number): void {
  const params = unetParamCount(config.unet), act = unetActivationBytes(config.unet);
  const bytes = 4 * params + images * act;
  if (bytes <= budget) return;
  const fits = Math.floor((budget - 4 * params) / act);
  const u = config.unet;
  checkBudget(op, `${images} ${u.inChannels}×${u.imageSize}×${u.imageSize} images through a UNet of ${params.toLocaleString('en')} parameters${images > 1 ? ` (${fits >= 1 ? `at most ${fits} fit` : 'not even one fits'})` : ''}`,
    bytes, budget);
}

export class DiffusionModel {
  readonly unet: UNet;
  readonly schedule: NoiseSchedule;
  readonly config: DiffusionModelConfig;

  /** Builds the UNet with fresh weights (seeded); the config is checked first, and the UNet with one image must fit the engine's budget. */
  constructor(readonly engine: Engine, config: DiffusionModelConfig, opts: { seed?: number } = {}) {
    if (!engine || typeof engine.tensor !== 'function') fail('DiffusionModel', 'needs an engine as its first argument');
    this.config = resolveDiffusionConfig(config);
    checkDiffusionBudget('DiffusionModel', this.config, 1, engine.memoryBudget);
    this.schedule = noiseSchedule(this.config.schedule.kind, this.config.schedule.steps);
    this.unet = new UNet(engine, this.config.unet, { seed: opts.seed ?? 0 });
  }

  /** Classes of a class-conditional model (0: unconditional). */
  get classes(): number { return this.config.unet.classes; }

  /** [C, H, W] of a sample. */
  get imageShape(): [number, number, number] {
    const u = this.config.unet;
    return [u.inChannels, u.imageSize, u.imageSize];
  }

  paramCount(): number { return this.unet.paramCount(); }

  /**
   * n images from the reverse process (src/models/diffusion/sampler.ts): [n, C, H, W], pixels
   * 0…255 by default. Every option is checked before anything runs, and the batch (doubled when
   * guidance needs both passes) against the memory budget.
   */
  async sample(n: number, opts: DiffusionSampleOptions = {}): Promise<Tensor> {
    const op = 'DiffusionModel.sample';
    if (this.unet.isDisposed) fail(op, 'the DiffusionModel was disposed: its weights are freed (build or load it again)');
    const count = checkCount(op, 'n', n);
    const o = checkOptions<DiffusionSampleOptions>(op, opts, SAMPLE_KEYS);
    const d = this.config.sampler, T = this.schedule.steps;
    const steps = o.steps ?? d.steps;
    if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > T)
      fail(op, `steps = ${describeValue(steps)} must be an integer from 1 to ${T} (the schedule's timesteps)`);
    const eta = o.eta ?? d.eta;
    if (typeof eta !== 'number' || !(eta >= 0 && eta <= 1)) fail(op, `eta = ${describeValue(eta)} must be a number from 0 to 1 (0: deterministic DDIM, 1: DDPM's variance)`);
    const guidance = o.guidance ?? (this.classes ? d.guidance : 1);
    if (typeof guidance !== 'number' || !(guidance >= 0 && guidance <= DIFFUSION_LIMITS.guidance))
      fail(op, `guidance = ${describeValue(guidance)} must be a number from 0 to ${DIFFUSION_LIMITS.guidance} (1: the conditional model alone)`);
    const method = checkEnum(op, 'method', o.method, ['ddim', 'ddpm']) ?? d.method;
    const seed = o.seed === undefined ? 0 : checkSeed(op, o.seed);
    const output = checkEnum(op, 'output', o.output, ['pixels', 'data']) ?? 'pixels';
    if (o.clip !== undefined && typeof o.clip !== 'boolean') fail(op, `clip = ${describeValue(o.clip)} must be true or false`);
    if (o.onStep !== undefined && typeof o.onStep !== 'function') fail(op, `onStep = ${describeValue(o.onStep)} must be a function`);
    let labels: number[] | null = null;
    if (this.classes) {
      const given = o.labels === undefined ? Array.from({ length: Math.min(count, this.classes) }, (_, i) => i) : Array.from(checkLabels(op, o.labels, this.classes));
      if (given.length === 0) fail(op, 'labels is empty: give one class per image, or fewer to cycle through');
      if (given.length > count) fail(op, `${given.length} labels for ${count} images: give one class per image, or fewer to cycle through`);
      labels = Array.from({ length: count }, (_, i) => given[i % given.length]!);
    } else {
      if (o.labels !== undefined) fail(op, 'labels were given but the model is unconditional (train it with classes)');
      if (guidance !== 1) fail(op, `guidance = ${guidance} needs a class-conditional model; this one is unconditional (use 1)`);
    }
    const [C, H, W] = this.imageShape;
    if (o.xT !== undefined) {
      const ok = Array.isArray(o.xT) || (ArrayBuffer.isView(o.xT) && !(o.xT instanceof DataView));
      if (!ok || o.xT.length !== count * C * H * W) fail(op, `xT must be ${count * C * H * W} numbers (n × ${C} × ${H} × ${W}), got ${describeValue(o.xT)}`);
      for (let i = 0; i < o.xT.length; i++) if (!Number.isFinite(o.xT[i])) fail(op, `xT[${i}] = ${describeValue(o.xT[i])} is not a finite number`);
    }
    checkDiffusionBudget(op, this.config, labels && guidance !== 1 && guidance !== 0 ? 2 * count : count, this.engine.memoryBudget);

    const x = await sampleLoop(this.unet, this.schedule, [count, C, H, W], {
      method, steps, eta, guidance, labels, nullLabel: this.classes, seed,
      ...(o.clip !== undefined ? { clip: o.clip } : {}), ...(o.xT ? { xT: o.xT } : {}), ...(o.onStep ? { onStep: o.onStep } : {}),
    });
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) fail(op, `the model produced non-finite values: ${CORRUPT}`);
    if (output === 'pixels') for (let i = 0; i < x.length; i++) x[i] = Math.min(255, Math.max(0, (x[i]! + 1) * 127.5));
    return this.engine.tensor(x, [count, C, H, W]);
  }

  /** The model file's bytes: the UNet's weights by name, the config and checksums in the metadata. */
  async toBytes(): Promise<Uint8Array> {
    const tensors = new Map<string, NamedArray>();
    for (const [name, p] of this.unet.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
    return diffusionBytes(this.config, tensors);
  }

  dispose(): void {
    this.unet.dispose();
  }
}

/** Encodes a diffusion model file from a config and the UNet's weights (e.g. the EMA weights of a checkpoint). */
export function diffusionBytes(config: DiffusionModelConfig, tensors: ReadonlyMap<string, NamedArray>): Uint8Array {
  return encodeSafetensors(tensors, { [FORMAT_KEY]: DIFFUSION_FORMAT, [CONFIG_KEY]: JSON.stringify(config) });
}

export interface CheckedDiffusionBytes {
  config: DiffusionModelConfig;
  tensors: Map<string, NamedArray>;
  params: number;
  checksummed: boolean;
}

/**
 * Every check of a diffusion model file that needs no engine, in the flows' order: the container
 * (coverage, checksums, finite weights), the format and config (schema), the tensors against the
 * UNet's parameters, the memory budget with one image.
 */
export function checkDiffusionBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}): CheckedDiffusionBytes {
  const { tensors, metadata, checksummed } = decodeSafetensors(bytes, name, { finite: !opts.allowNonFinite });
  if (metadata[FORMAT_KEY] !== DIFFUSION_FORMAT) {
    const hint = metadata[FORMAT_KEY] === 'inflow-model-1' ? ' (a flow model: use `inflow sample`)' : '';
    throw new ModelFileError(`${name}: not an inflow diffusion model file (format ${JSON.stringify(metadata[FORMAT_KEY]?.slice(0, 40) ?? null)})${hint}`);
  }
  const text = metadata[CONFIG_KEY];
  if (text === undefined) throw new ModelFileError(`${name}: the metadata has no model config ('${CONFIG_KEY}' is missing)`);
  let json: unknown;
  try {
    json = parseBoundedJson(text, MAX_JSON_DEPTH);
  } catch (e) {
    throw new ModelFileError(`${name}: the model config in the metadata is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const checked = checkDiffusionConfig(json);
  if (!checked.ok) throw new ModelFileError(`${name}: ${checked.problem}`);
  const config = checked.value;
  const params = unetParamCount(config.unet);
  checkTensors(name, tensors, unetParamShapes(config.unet), params, 'diffusion');
  try {
    checkDiffusionBudget(name, config, 1, opts.memoryBudget ?? resolveMemoryBudget());
  } catch (e) {
    if (e instanceof InflowError) throw new ModelFileError(e.message);
    throw e;
  }
  return { config, tensors, params, checksummed };
}

/** Checks a diffusion model file's bytes and rebuilds the model on `engine`. */
export function diffusionModelFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string; allowNonFinite?: boolean }): DiffusionModel {
  if (!opts?.engine || typeof opts.engine.tensor !== 'function') fail('loadDiffusionModel', 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer))
    throw new ModelFileError(`${name}: a model must be given as a Uint8Array or ArrayBuffer of the file's bytes, not ${describeValue(bytes)}`);
  const { config, tensors } = checkDiffusionBytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), name,
    { memoryBudget: opts.engine.memoryBudget, ...(opts.allowNonFinite ? { allowNonFinite: true } : {}) });
  const model = new DiffusionModel(opts.engine, config);
  model.unet.loadStateDict(tensors);
  return model;
}
