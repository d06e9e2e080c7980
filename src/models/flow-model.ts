import type { Engine } from '../engine/engine.js';
import { describeValue, fail, shapeStr } from '../engine/errors.js';
import { add, affine, concat, relu, reshape, sum, transpose } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { ActNorm } from '../layers/actnorm.js';
import { ClassPrior } from '../layers/class-prior.js';
import { CouplingNet } from '../layers/coupling-net.js';
import { GaussianBase } from '../layers/gaussian.js';
import { MaskedKernelLayer } from '../layers/masked-kernel.js';
import { Module } from '../layers/module.js';
import { MultiScaleFlow, type MultiScaleConfig } from '../layers/multiscale.js';
import { Preprocess } from '../layers/preprocess.js';
import { checkSeed, Rng } from '../data/rng.js';
import type { ModelConfig } from './config.js';
import { checkBatchBudget, modelCost, weightBytes, type ModelCost } from './cost.js';
import { checkCount, checkEnum, checkLabels, checkOptions, checkTemperature, checkTensorArg, CORRUPT, ValueChecks, type PixelRange } from './guards.js';
import { planModel } from './plan.js';

/** What fromConfig needs to rebuild a model exactly (weights are filled separately, by name). */
export interface FlowModelConfig {
  kind: 'flow-model';
  model: ModelConfig;
  architecture: MultiScaleConfig;
}

export interface SampleOptions {
  /** Scale of the latent Gaussian, a finite number in [0, 10] (default 1; 0 decodes the mean latent). */
  temperature?: number;
  /** Integer in 0…2³² − 1 (default 0): the same seed gives the same images on every backend. */
  seed?: number;
  /**
   * Classes to draw, for a model with a class prior: one per image, or fewer to cycle through
   * (e.g. [0…9] for rows of digits). Default: drawn uniformly with the seeded RNG.
   */
  labels?: readonly number[];
  /** 'pixels' (default): values clamped to [0, 256]; 'flow': the logit-space output of the flow. */
  output?: 'pixels' | 'flow';
}

/** Options of logProb / bitsPerDim / classLogProbs (the second argument may also be the labels alone). */
export interface ScoreOptions {
  /** One class per image: log p(x | y) instead of log p(x) (a model with a class prior only). */
  labels?: ArrayLike<number>;
  /**
   * Unset (default): dequantised pixels in [0, 256), and a batch whose every value lies in [0, 1] is
   * refused as probably normalised. 'pixels': the same without that heuristic (really dark images).
   * 'unit': images in [0, 1], multiplied by 256 before scoring (so x/256 scores exactly as x).
   */
  range?: PixelRange;
}

/** Images per batched pass over the classes of a class-conditional flow (classesPerPass). */
const PASS_IMAGES = 64;

const SAMPLE_KEYS = ['temperature', 'seed', 'labels', 'output'] as const;
const SCORE_KEYS = ['labels', 'range'] as const;

/**
 * A multi-scale flow with logit preprocessing and a Gaussian base (on the top latent optionally a
 * class-conditional one, `classes` in the config). encode/decode work in the flow's
 * (logit) space; logProb/bitsPerDim take dequantised pixels in [0, 256) and include every log-det
 * (docs/flows.md §14). All methods are synchronous except sample and prepare; on webgpu call
 * `await model.prepare()` after changing weights (host-side 1×1 inverses and CInC checks).
 *
 * Every method checks its arguments (InflowError naming the argument) and frees its own
 * intermediates: called in a loop without engine.scope, only the returned tensors stay alive
 * (docs/memory-and-guards.md).
 */
export class FlowModel extends Module {
  readonly flow: MultiScaleFlow;
  readonly preprocess: Preprocess;
  readonly base: GaussianBase;
  /** The top latent's class-conditional Gaussian, when the config has `classes`. */
  readonly prior: ClassPrior | null;
  private readonly modelConfig: ModelConfig;
  private readonly conditionedNets: CouplingNet[];
  private costCache: ModelCost | null = null;

  constructor(engine: Engine, config: ModelConfig, architecture: MultiScaleConfig = planModel(config), seed = 0) {
    super(engine);
    checkSeed('FlowModel', seed);
    this.modelConfig = config;
    this.flow = this.child('flow', new MultiScaleFlow(engine, architecture, new Rng(seed)));
    this.preprocess = new Preprocess(engine, { alpha: config.alpha });
    this.base = new GaussianBase(engine);
    const top = this.flow.latentShapes().at(-1)!;
    this.prior = config.classes ? this.child('prior', new ClassPrior(engine, config.classes, top)) : null;
    this.conditionedNets = this.modules().filter((m): m is CouplingNet => m instanceof CouplingNet && !!m.config.classes);
  }

  /** Number of classes of the class prior; 0 for a plain N(0, I) base. */
  get classes(): number { return this.prior?.classes ?? 0; }

  /** Whether the coupling networks see the label too (then every pass through the flow needs one). */
  get classCouplings(): boolean { return this.conditionedNets.length > 0; }

  get config(): FlowModelConfig {
    return { kind: 'flow-model', model: { ...this.modelConfig }, architecture: this.flow.config };
  }

  /** Data dimension D = C·H·W. */
  get dims(): number { return this.modelConfig.inputShape.reduce((a, b) => a * b, 1); }

  /** What the config costs (parameters, activation bytes per image), for the memory budget. */
  get cost(): ModelCost {
    return (this.costCache ??= modelCost(this.modelConfig, this.flow.config));
  }

  /** Logit space → latents. A flow whose couplings see the label needs `labels` (ignored otherwise). */
  encode(x: Tensor, labels?: ArrayLike<number>): { z: Tensor[]; logdet: Tensor } {
    const n = this.checkInput('encode', x);
    this.checkBatch('encode', n);
    return this.engine.scope(() => this.withLabels('encode', labels, n, () => this.flow.encode(x)));
  }

  /** x is a tensor [N, C, H, W] of the model's input shape; returns N. */
  private checkInput(op: string, x: unknown): number {
    this.assertUsable(`FlowModel.${op}`);
    const t = checkTensorArg(`FlowModel.${op}`, 'x', x);
    const want = this.modelConfig.inputShape;
    if (t.rank !== 4 || want.some((d, i) => t.shape[i + 1] !== d))
      fail(`FlowModel.${op}`, `input ${shapeStr(t.shape)} does not match the model's [N, ${want.join(', ')}]`);
    return t.shape[0]!;
  }

  /** Weights plus n images' activations must fit the engine's memory budget (src/models/cost.ts). */
  private checkBatch(op: string, n: number): void {
    checkBatchBudget(`FlowModel.${op}`, this.engine, this.modelConfig, n, this.cost);
  }

  /** Latents → logit space; `labels` as for encode. */
  decode(z: readonly Tensor[], labels?: ArrayLike<number>): Tensor {
    this.assertUsable('FlowModel.decode');
    const shapes = this.flow.latentShapes();
    if (!Array.isArray(z) || z.length !== shapes.length)
      fail('FlowModel.decode', `z = ${describeValue(z)} must be the ${shapes.length} latents encode returns`);
    z.forEach((t, i) => checkTensorArg('FlowModel.decode', `z[${i}]`, t));
    const n = z[0]!.shape[0]!;
    this.checkBatch('decode', n);
    return this.engine.scope(() => this.withLabels('decode', labels, n, () => this.flow.decode(z)));
  }

  /** Runs fn with the labels shown to the class-conditional coupling networks (a no-op for other flows). */
  private withLabels<T>(op: string, labels: ArrayLike<number> | undefined, n: number, fn: () => T): T {
    if (labels !== undefined) this.checkImageLabels(`FlowModel.${op}`, labels, n);
    if (!this.classCouplings) return fn();
    if (!labels) fail(`FlowModel.${op}`, `the coupling networks of this model see the label: pass labels (0…${this.classes - 1}) for the ${n} images`);
    const onehot = this.prior!.oneHot(labels, n);
    for (const net of this.conditionedNets) net.condition = onehot;
    try {
      return fn();
    } finally {
      for (const net of this.conditionedNets) net.condition = null;
    }
  }

  /** Labels for n images: one each, classes of this model's prior. */
  private checkImageLabels(op: string, labels: unknown, n: number): ArrayLike<number> {
    if (!this.prior) fail(op, 'labels were given but the model has no class prior (train it with --classes)');
    const list = checkLabels(op, labels, this.prior.classes);
    if (list.length !== n) fail(op, `${list.length} labels for ${n} images`);
    return list;
  }

  /** The second argument of logProb / bitsPerDim: the labels alone, or ScoreOptions. */
  private scoreOptions(op: string, arg: unknown, n: number, labelsAllowed = true): ScoreOptions {
    const isLabels = Array.isArray(arg) || ArrayBuffer.isView(arg);
    const o = isLabels ? { labels: arg as ArrayLike<number> } : checkOptions<ScoreOptions>(op, arg ?? undefined, labelsAllowed ? SCORE_KEYS : ['range']);
    checkEnum(op, 'range', o.range, ['pixels', 'unit']);
    if (o.labels !== undefined) this.checkImageLabels(op, o.labels, n);
    return o;
  }

  /**
   * One scoring call: arguments and memory budget checked, the pixels checked (ValueChecks: at once
   * where the backend reads synchronously, else as a guard on the result), `fn` run in a scope so
   * only its result survives, and the result refused if the weights made it non-finite.
   */
  private scored(op: string, x: Tensor, o: ScoreOptions, what: string, fn: (px: Tensor) => Tensor): Tensor {
    const where = `FlowModel.${op}`;
    this.checkBatch(op, x.shape[0]!);
    return this.engine.scope(() => {
      const checks = new ValueChecks(where);
      checks.pixels(x, o.range);
      const out = fn(o.range === 'unit' ? affine(x, 256, 0) : x);
      checks.output(out, what);
      return out;
    });
  }

  /**
   * log p(x) per image, x dequantised pixels in [0, 256) (see ScoreOptions.range for images in
   * [0, 1]). With labels (a model with a class prior only) it is log p(x | y); without, the exact
   * marginal over the classes (log Σ_y p(x | y)/K). The second argument is the labels or ScoreOptions.
   */
  logProb(x: Tensor, labelsOrOptions?: ArrayLike<number> | ScoreOptions): Tensor {
    const n = this.checkInput('logProb', x);
    const o = this.scoreOptions('FlowModel.logProb', labelsOrOptions, n);
    return this.scored('logProb', x, o, 'log-density', (px) => this.logProbOf(px, o.labels));
  }

  private logProbOf(x: Tensor, labels: ArrayLike<number> | undefined): Tensor {
    if (!this.prior || labels) return this.logProbGiven(x, labels);
    return this.prior.logMeanExp(this.classLogProbsOf(x));
  }

  /**
   * log p(x | y) for every class, [N, classes]: one pass, or one per class when the couplings see y.
   * x as for logProb; `options.range` as in ScoreOptions.
   */
  classLogProbs(x: Tensor, options?: Omit<ScoreOptions, 'labels'>): Tensor {
    const n = this.checkInput('classLogProbs', x);
    if (!this.prior) fail('FlowModel.classLogProbs', 'the model has no class prior (train it with --classes)');
    const o = this.scoreOptions('FlowModel.classLogProbs', options, n, false);
    return this.scored('classLogProbs', x, o, 'class log-density', (px) => this.classLogProbsOf(px));
  }

  private classLogProbsOf(x: Tensor): Tensor {
    const N = x.shape[0]!, K = this.prior!.classes;
    if (this.classCouplings) {
      // Several classes per pass: the batch repeated once per class, so each kernel call does that many
      // times the work for the same per-op overhead (an image's result does not depend on its batch).
      // One scope per pass bounds the activations held at once.
      const perPass = this.classesPerPass(N);
      const parts: Tensor[] = [];
      for (let y0 = 0; y0 < K; y0 += perPass) {
        const ys = Math.min(perPass, K - y0);
        parts.push(this.engine.scope(() => {
          const xs = ys === 1 ? x : concat(new Array<Tensor>(ys).fill(x), 0);
          const labels = Array.from({ length: ys * N }, (_, i) => y0 + Math.floor(i / N));
          return transpose(reshape(this.logProbGiven(xs, labels), [ys, N]));
        }));
      }
      return parts.length === 1 ? parts[0]! : concat(parts, 1);
    }
    const { lp, z } = this.flowLogProb(x, undefined);
    return add(this.prior!.classLogProbs(z.at(-1)!), reshape(lp, [N, 1]));
  }

  /**
   * How many class passes of a class-conditional flow run as one batch: all of them under a
   * gradient tape; otherwise enough for about PASS_IMAGES images (larger passes measured no faster
   * on one thread, docs/thread-scaling.md §4), no more than a quarter of the memory budget holds
   * activations for, at least one.
   */
  private classesPerPass(n: number): number {
    // Under a gradient tape every pass's activations stay until backward anyway: one pass, fewest ops.
    if (this.engine.isRecording()) return this.prior!.classes;
    const free = this.engine.memoryBudget / 4 - weightBytes(this.cost);
    const byMemory = Math.floor(free / this.cost.activationBytesPerImage / n);
    return Math.max(1, Math.min(this.prior!.classes, Math.floor(PASS_IMAGES / n), byMemory));
  }

  /** Everything but the top latent's prior term: preprocessing and flow log-dets, split latents. */
  private flowLogProb(x: Tensor, labels: ArrayLike<number> | undefined): { lp: Tensor; z: Tensor[] } {
    const pre = this.preprocess.encode(x);
    const { z, logdet } = this.withLabels('logProb', labels, x.shape[0]!, () => this.flow.encode(pre.y));
    let lp = add(pre.logdet, logdet);
    for (const zi of z.slice(0, -1)) lp = add(lp, this.base.logProb(zi));
    return { lp, z };
  }

  private logProbGiven(x: Tensor, labels: ArrayLike<number> | undefined): Tensor {
    const { lp, z } = this.flowLogProb(x, labels);
    const top = z.at(-1)!;
    return add(lp, this.prior ? this.prior.logProb(top, labels) : this.base.logProb(top));
  }

  /** −log p(x) / (D ln 2) per image (−log p(x | y) / (D ln 2) with labels); arguments as for logProb. */
  bitsPerDim(x: Tensor, labelsOrOptions?: ArrayLike<number> | ScoreOptions): Tensor {
    const n = this.checkInput('bitsPerDim', x);
    const o = this.scoreOptions('FlowModel.bitsPerDim', labelsOrOptions, n);
    return this.scored('bitsPerDim', x, o, 'bits/dim', (px) => this.toBitsPerDim(this.logProbOf(px, o.labels)));
  }

  /** bits/dim of p(x) from classLogProbs' output, without running the flow again. */
  bitsPerDimFromClasses(classLogProbs: Tensor): Tensor {
    const op = 'FlowModel.bitsPerDimFromClasses';
    this.assertUsable(op);
    if (!this.prior) fail(op, 'the model has no class prior');
    const lp = checkTensorArg(op, 'classLogProbs', classLogProbs);
    if (lp.rank !== 2 || lp.shape[1] !== this.prior.classes)
      fail(op, `classLogProbs ${shapeStr(lp.shape)} must be [N, ${this.prior.classes}], as classLogProbs returns`);
    return this.engine.scope(() => {
      const checks = new ValueChecks(op);
      const out = this.toBitsPerDim(this.prior!.logMeanExp(lp));
      checks.output(out, 'bits/dim');
      return out;
    });
  }

  private toBitsPerDim(logProb: Tensor): Tensor { return affine(logProb, -1 / (this.dims * Math.LN2), 0); }

  /**
   * Latents for n images with the seeded host RNG, identical on every backend: N(0, T²I), and on the
   * top latent of a class-prior model μ_y + T·σ_y·ε for labels from `opts.labels` or drawn uniformly.
   */
  sampleLatents(n: number, opts: Omit<SampleOptions, 'output'> = {}): Tensor[] {
    return this.latents('FlowModel.sampleLatents', n, opts).z;
  }

  /** The latents and the labels they were drawn for (null without a class prior). */
  drawLatents(n: number, opts: Omit<SampleOptions, 'output'> = {}): { z: Tensor[]; labels: number[] | null } {
    return this.latents('FlowModel.drawLatents', n, opts);
  }

  private latents(op: string, n: number, opts: unknown): { z: Tensor[]; labels: number[] | null } {
    const checked = this.checkSampleArgs(op, n, opts, SAMPLE_KEYS.filter((k) => k !== 'output'));
    return this.engine.scope(() => this.draw(n, checked));
  }

  /**
   * n, temperature, seed, labels and output checked before anything is drawn or allocated; the
   * batch must fit the memory budget. Returns the options with their defaults.
   */
  private checkSampleArgs(op: string, n: unknown, opts: unknown, keys: readonly string[]): Required<Omit<SampleOptions, 'labels'>> & { labels?: readonly number[] } {
    this.assertUsable(op);
    const count = checkCount(op, 'n', n);
    const o = checkOptions<SampleOptions>(op, opts, keys);
    const temperature = o.temperature === undefined ? 1 : checkTemperature(op, o.temperature);
    const seed = o.seed === undefined ? 0 : checkSeed(op, o.seed);
    const output = checkEnum(op, 'output', o.output, ['pixels', 'flow']) ?? 'pixels';
    let labels: number[] | undefined;
    if (o.labels !== undefined) {
      if (!this.prior) fail(op, 'labels were given but the model has no class prior (train it with --classes)');
      // A copy: sample() awaits prepare() before drawing, and the caller's array may change meanwhile.
      labels = Array.from(checkLabels(op, o.labels, this.prior.classes));
      if (labels.length === 0) fail(op, 'labels is empty: give one class per image, or fewer to cycle through');
      if (labels.length > count) fail(op, `${labels.length} labels for ${count} images: give one class per image, or fewer to cycle through`);
    }
    checkBatchBudget(op, this.engine, this.modelConfig, count, this.cost);
    return { temperature, seed, output, ...(labels ? { labels } : {}) };
  }

  private draw(n: number, opts: { temperature: number; seed: number; labels?: readonly number[] }): { z: Tensor[]; labels: number[] | null } {
    const rng = new Rng(opts.seed);
    const T = opts.temperature;
    const given = opts.labels;
    const labels = this.prior ? (given ? Array.from({ length: n }, (_, i) => given[i % given.length]!) : this.prior.drawLabels(n, rng)) : null;
    const shapes = this.flow.latentShapes();
    const z = shapes.map((s, i) => (labels && i === shapes.length - 1 ? this.prior!.sample(labels, rng, T) : this.base.sample([n, ...s], rng, T)));
    return { z, labels };
  }

  /**
   * n images: pixels in [0, 256] (or the flow's logit-space output with `output: 'flow'`). Refuses,
   * after decoding, a batch with a non-finite value: finite latents can only decode to one when
   * the weights are corrupt (one device read of a single sum, on every backend).
   */
  async sample(n: number, opts: SampleOptions = {}): Promise<Tensor> {
    const o = this.checkSampleArgs('FlowModel.sample', n, opts, SAMPLE_KEYS);
    await this.prepare();
    const [out, probe] = this.engine.scope(() => {
      const { z, labels } = this.draw(n, o);
      const x = this.withLabels('sample', labels ?? undefined, n, () => this.flow.decode(z));
      const probe = this.engine.noGrad(() => sum(reshape(x, [x.size])));
      return [o.output === 'flow' ? x : this.toPixels(x), probe];
    });
    let total = NaN;
    try {
      total = await probe!.item();
    } finally {
      probe!.dispose();
      if (!Number.isFinite(total)) out!.dispose();
    }
    if (!Number.isFinite(total)) fail('FlowModel.sample', `the model produced non-finite pixels: ${CORRUPT}`);
    return out!;
  }

  /** The flow's logit-space output (decode's) as pixels in [0, 256], as sample() returns them. */
  toPixels(x: Tensor): Tensor {
    // α keeps the logit finite but lets sigmoid's ends map a hair outside [0, 256].
    const px = this.preprocess.decode(x);
    return affine(relu(affine(relu(px), -1, 256)), -1, 256);
  }

  /**
   * Runs ActNorm's data-dependent initialisation on a first batch of pixels, outside any gradient
   * tape. Call it before the first training step: initialising inside valueAndGrads would replace
   * parameter tensors the step is differentiating.
   */
  initialize(x: Tensor, options?: Omit<ScoreOptions, 'labels'>): void {
    this.engine.noGrad(() => this.engine.scope(() => { this.logProb(x, options ?? {}); }));
  }

  /** Fills weights by name (e.g. from a loader) and marks ActNorms initialised. */
  loadParameters(values: Map<string, Tensor | Float32Array | Float64Array>): void {
    const params = this.namedParams();
    for (const [name, v] of values) {
      const p = params.get(name);
      if (!p) fail('loadParameters', `unknown parameter '${name}'`);
      const t = v instanceof Float32Array || v instanceof Float64Array ? this.engine.tensor(v, p.shape) : v;
      if (t.shape.join() !== p.shape.join()) fail('loadParameters', `'${name}' has shape [${t.shape}], expected [${p.shape}]`);
      p.value = t;
    }
    for (const [name] of params) if (!values.has(name)) fail('loadParameters', `missing parameter '${name}'`);
    this.markInitialized();
  }

  /** Fills parameters (and buffers) by name, as Module.loadStateDict, and marks ActNorms initialised. */
  override loadStateDict(...args: Parameters<Module['loadStateDict']>): void {
    super.loadStateDict(...args);
    this.markInitialized();
  }

  /** Solve schedule of every k×k layer: the wavefront, or the sequential raster baseline (benchmarks). */
  setSolveAlgorithm(algorithm: 'wavefront' | 'raster'): void {
    for (const m of this.modules()) if (m instanceof MaskedKernelLayer) m.algorithm = algorithm;
  }

  /** ActNorm skips its data-dependent init (weights came from a file or were set by hand). */
  markInitialized(): void {
    for (const m of this.modules()) if (m instanceof ActNorm) m.initialized = true;
  }
}
