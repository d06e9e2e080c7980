import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import { add, affine, concat, relu, reshape } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { ActNorm } from '../layers/actnorm.js';
import { ClassPrior } from '../layers/class-prior.js';
import { CouplingNet } from '../layers/coupling-net.js';
import { GaussianBase } from '../layers/gaussian.js';
import { MaskedKernelLayer } from '../layers/masked-kernel.js';
import { Module } from '../layers/module.js';
import { MultiScaleFlow, type MultiScaleConfig } from '../layers/multiscale.js';
import { Preprocess } from '../layers/preprocess.js';
import { Rng } from '../data/rng.js';
import type { ModelConfig } from './config.js';
import { planModel } from './plan.js';

/** What fromConfig needs to rebuild a model exactly (weights are filled separately, by name). */
export interface FlowModelConfig {
  kind: 'flow-model';
  model: ModelConfig;
  architecture: MultiScaleConfig;
}

export interface SampleOptions {
  temperature?: number;
  seed?: number;
  /**
   * Classes to draw, for a model with a class prior: one per image, or fewer to cycle through
   * (e.g. [0…9] for rows of digits). Default: drawn uniformly with the seeded RNG.
   */
  labels?: readonly number[];
  /** 'pixels' (default): values clamped to [0, 256]; 'flow': the logit-space output of the flow. */
  output?: 'pixels' | 'flow';
}

/**
 * A multi-scale flow with logit preprocessing and a Gaussian base (on the top latent optionally a
 * class-conditional one, `classes` in the config). encode/decode work in the flow's
 * (logit) space; logProb/bitsPerDim take dequantised pixels in [0, 256) and include every log-det
 * (docs/flows.md §14). All methods are synchronous except sample and prepare; on webgpu call
 * `await model.prepare()` after changing weights (host-side 1×1 inverses and CInC checks).
 */
export class FlowModel extends Module {
  readonly flow: MultiScaleFlow;
  readonly preprocess: Preprocess;
  readonly base: GaussianBase;
  /** The top latent's class-conditional Gaussian, when the config has `classes`. */
  readonly prior: ClassPrior | null;
  private readonly modelConfig: ModelConfig;
  private readonly conditionedNets: CouplingNet[];

  constructor(engine: Engine, config: ModelConfig, architecture: MultiScaleConfig = planModel(config), seed = 0) {
    super(engine);
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

  /** Logit space → latents. A flow whose couplings see the label needs `labels` (ignored otherwise). */
  encode(x: Tensor, labels?: ArrayLike<number>): { z: Tensor[]; logdet: Tensor } {
    this.checkInput('encode', x);
    return this.withLabels('encode', labels, x.shape[0]!, () => this.flow.encode(x));
  }

  private checkInput(op: string, x: Tensor): void {
    const want = this.modelConfig.inputShape;
    if (x.rank !== 4 || want.some((d, i) => x.shape[i + 1] !== d))
      fail(`FlowModel.${op}`, `input ${shapeStr(x.shape)} does not match the model's [N, ${want.join(', ')}]`);
  }

  /** Latents → logit space; `labels` as for encode. */
  decode(z: readonly Tensor[], labels?: ArrayLike<number>): Tensor {
    return this.withLabels('decode', labels, z[0]?.shape[0] ?? 0, () => this.flow.decode(z));
  }

  /** Runs fn with the labels shown to the class-conditional coupling networks (a no-op for other flows). */
  private withLabels<T>(op: string, labels: ArrayLike<number> | undefined, n: number, fn: () => T): T {
    if (labels && !this.prior) fail(`FlowModel.${op}`, 'labels were given but the model has no class prior (train it with --classes)');
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

  /**
   * log p(x) per image, x dequantised pixels in [0, 256). With `labels` (a model with a class prior
   * only) it is log p(x | y); without, the exact marginal over the classes (log Σ_y p(x | y)/K).
   */
  logProb(x: Tensor, labels?: ArrayLike<number>): Tensor {
    this.checkInput('logProb', x);
    if (!this.prior || labels) return this.logProbGiven(x, labels);
    return this.prior.logMeanExp(this.classLogProbs(x));
  }

  /** log p(x | y) for every class, [N, classes]: one pass, or one per class when the couplings see y. */
  classLogProbs(x: Tensor): Tensor {
    this.checkInput('classLogProbs', x);
    if (!this.prior) fail('FlowModel.classLogProbs', 'the model has no class prior (train it with --classes)');
    const N = x.shape[0]!, K = this.prior.classes;
    if (this.classCouplings)
      return concat(Array.from({ length: K }, (_, y) => reshape(this.logProbGiven(x, new Array<number>(N).fill(y)), [N, 1])));
    const { lp, z } = this.flowLogProb(x, undefined);
    return add(this.prior.classLogProbs(z.at(-1)!), reshape(lp, [N, 1]));
  }

  /** Everything but the top latent's prior term: preprocessing and flow log-dets, split latents. */
  private flowLogProb(x: Tensor, labels: ArrayLike<number> | undefined): { lp: Tensor; z: Tensor[] } {
    const pre = this.preprocess.encode(x);
    const { z, logdet } = this.encode(pre.y, labels);
    let lp = add(pre.logdet, logdet);
    for (const zi of z.slice(0, -1)) lp = add(lp, this.base.logProb(zi));
    return { lp, z };
  }

  private logProbGiven(x: Tensor, labels: ArrayLike<number> | undefined): Tensor {
    const { lp, z } = this.flowLogProb(x, labels);
    const top = z.at(-1)!;
    return add(lp, this.prior ? this.prior.logProb(top, labels) : this.base.logProb(top));
  }

  /** −log p(x) / (D ln 2) per image (−log p(x | y) / (D ln 2) with labels). */
  bitsPerDim(x: Tensor, labels?: ArrayLike<number>): Tensor {
    return this.toBitsPerDim(this.logProb(x, labels));
  }

  /** bits/dim of p(x) from classLogProbs' output, without running the flow again. */
  bitsPerDimFromClasses(classLogProbs: Tensor): Tensor {
    if (!this.prior) fail('FlowModel.bitsPerDimFromClasses', 'the model has no class prior');
    return this.toBitsPerDim(this.prior.logMeanExp(classLogProbs));
  }

  private toBitsPerDim(logProb: Tensor): Tensor { return affine(logProb, -1 / (this.dims * Math.LN2), 0); }

  /**
   * Latents for n images with the seeded host RNG, identical on every backend: N(0, T²I), and on the
   * top latent of a class-prior model μ_y + T·σ_y·ε for labels from `opts.labels` or drawn uniformly.
   */
  sampleLatents(n: number, opts: Omit<SampleOptions, 'output'> = {}): Tensor[] {
    return this.drawLatents(n, opts).z;
  }

  /** The latents and the labels they were drawn for (null without a class prior). */
  drawLatents(n: number, opts: Omit<SampleOptions, 'output'> = {}): { z: Tensor[]; labels: number[] | null } {
    const rng = new Rng(opts.seed ?? 0);
    const T = opts.temperature ?? 1;
    if (opts.labels && !this.prior) fail('FlowModel.sample', 'labels were given but the model has no class prior (train it with --classes)');
    const labels = this.prior ? this.sampleLabels(n, rng, opts.labels) : null;
    const shapes = this.flow.latentShapes();
    const z = shapes.map((s, i) => (labels && i === shapes.length - 1 ? this.prior!.sample(labels, rng, T) : this.base.sample([n, ...s], rng, T)));
    return { z, labels };
  }

  private sampleLabels(n: number, rng: Rng, given: readonly number[] | undefined): number[] {
    if (!given) return this.prior!.drawLabels(n, rng);
    if (given.length === 0) fail('FlowModel.sample', 'labels is empty');
    const labels = Array.from({ length: n }, (_, i) => given[i % given.length]!);
    this.prior!.checkLabels(labels, n, 'FlowModel.sample');
    return labels;
  }

  async sample(n: number, opts: SampleOptions = {}): Promise<Tensor> {
    if (!Number.isInteger(n) || n < 1) fail('sample', `n = ${n} must be a positive integer`);
    await this.prepare();
    return this.engine.scope(() => {
      const { z, labels } = this.drawLatents(n, opts);
      const x = this.decode(z, labels ?? undefined);
      if (opts.output === 'flow') return x;
      // α keeps the logit finite but lets sigmoid's ends map a hair outside [0, 256].
      const px = this.preprocess.decode(x);
      return affine(relu(affine(relu(px), -1, 256)), -1, 256);
    });
  }

  /**
   * Runs ActNorm's data-dependent initialisation on a first batch of pixels, outside any gradient
   * tape. Call it before the first training step: initialising inside valueAndGrads would replace
   * parameter tensors the step is differentiating.
   */
  initialize(x: Tensor): void {
    this.engine.noGrad(() => this.engine.scope(() => { this.logProb(x); }));
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
