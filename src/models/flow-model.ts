import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import { add, affine, relu } from '../engine/ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { ActNorm } from '../layers/actnorm.js';
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
  /** 'pixels' (default): values clamped to [0, 256]; 'flow': the logit-space output of the flow. */
  output?: 'pixels' | 'flow';
}

/**
 * A multi-scale flow with logit preprocessing and a Gaussian base. encode/decode work in the flow's
 * (logit) space; logProb/bitsPerDim take dequantised pixels in [0, 256) and include every log-det
 * (spec §b.8). All methods are synchronous except sample and prepare; on webgpu call
 * `await model.prepare()` after changing weights (host-side 1×1 inverses and CInC checks).
 */
export class FlowModel extends Module {
  readonly flow: MultiScaleFlow;
  readonly preprocess: Preprocess;
  readonly base: GaussianBase;
  private readonly modelConfig: ModelConfig;

  constructor(engine: Engine, config: ModelConfig, architecture: MultiScaleConfig = planModel(config), seed = 0) {
    super(engine);
    this.modelConfig = config;
    this.flow = this.child('flow', new MultiScaleFlow(engine, architecture, new Rng(seed)));
    this.preprocess = new Preprocess(engine, { alpha: config.alpha });
    this.base = new GaussianBase(engine);
  }

  get config(): FlowModelConfig {
    return { kind: 'flow-model', model: { ...this.modelConfig }, architecture: this.flow.config };
  }

  /** Data dimension D = C·H·W. */
  get dims(): number { return this.modelConfig.inputShape.reduce((a, b) => a * b, 1); }

  encode(x: Tensor): { z: Tensor[]; logdet: Tensor } {
    this.checkInput('encode', x);
    return this.flow.encode(x);
  }

  private checkInput(op: string, x: Tensor): void {
    const want = this.modelConfig.inputShape;
    if (x.rank !== 4 || want.some((d, i) => x.shape[i + 1] !== d))
      fail(`FlowModel.${op}`, `input ${shapeStr(x.shape)} does not match the model's [N, ${want.join(', ')}]`);
  }

  decode(z: readonly Tensor[]): Tensor { return this.flow.decode(z); }

  /** log p(x) per image, x dequantised pixels in [0, 256). */
  logProb(x: Tensor): Tensor {
    this.checkInput('logProb', x);
    const pre = this.preprocess.encode(x);
    const { z, logdet } = this.flow.encode(pre.y);
    let lp = add(pre.logdet, logdet);
    for (const zi of z) lp = add(lp, this.base.logProb(zi));
    return lp;
  }

  /** −log p(x) / (D ln 2) per image. */
  bitsPerDim(x: Tensor): Tensor {
    return affine(this.logProb(x), -1 / (this.dims * Math.LN2), 0);
  }

  /** Latents for n images drawn from N(0, T²I) with the seeded host RNG: identical on every backend. */
  sampleLatents(n: number, opts: { temperature?: number; seed?: number } = {}): Tensor[] {
    const rng = new Rng(opts.seed ?? 0);
    return this.flow.latentShapes().map((s) => this.base.sample([n, ...s], rng, opts.temperature ?? 1));
  }

  async sample(n: number, opts: SampleOptions = {}): Promise<Tensor> {
    if (!Number.isInteger(n) || n < 1) fail('sample', `n = ${n} must be a positive integer`);
    await this.prepare();
    return this.engine.scope(() => {
      const x = this.decode(this.sampleLatents(n, opts));
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

  /** Solve schedule of every k×k layer: the wavefront, or the sequential raster baseline (benchmarks). */
  setSolveAlgorithm(algorithm: 'wavefront' | 'raster'): void {
    for (const m of this.modules()) if (m instanceof MaskedKernelLayer) m.algorithm = algorithm;
  }

  /** ActNorm skips its data-dependent init (weights came from a file or were set by hand). */
  markInitialized(): void {
    for (const m of this.modules()) if (m instanceof ActNorm) m.initialized = true;
  }
}
