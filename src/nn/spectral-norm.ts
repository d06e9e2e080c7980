import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { Rng } from '../data/rng.js';
import { add, div, matmul, mul, reshape, sqrt, sum, sumSquares } from '../ops/index.js';
import { Module } from './module.js';
import type { ModuleBuffer, Param } from './param.js';

/** A module whose forward reads a `weight` parameter (Conv2d, Linear, ConvTranspose2d). */
interface Weighted extends Module {
  readonly weight: Param;
  forward(x: Tensor): Tensor;
}

/**
 * Spectral normalisation (Miyato et al.): the wrapped module runs with W / σ(W), σ the largest
 * singular value of W viewed as a [d0, rest] matrix, estimated by power iteration with the vectors
 * u [d0] and v [rest] kept as buffers. Each training forward takes one step (v ← Wᵀu/‖·‖,
 * u ← Wv/‖·‖, outside the gradient), then σ = uᵀWv with the gradient flowing into W; eval mode
 * reuses u and v. docs/nn/spectral-norm.md has the math.
 */
export class SpectralNorm<M extends Weighted> extends Module {
  readonly u: ModuleBuffer;
  readonly v: ModuleBuffer;
  private readonly rows: number;
  private readonly cols: number;

  constructor(engine: Engine, readonly module: M, readonly opts: { powerIterations?: number; eps?: number; seed?: number } = {}) {
    super(engine);
    const iters = opts.powerIterations ?? 1;
    if (!Number.isInteger(iters) || iters < 1) fail('SpectralNorm', `powerIterations = ${iters} must be a positive integer`);
    this.child('module', module);
    const shape = module.weight.shape;
    this.rows = shape[0]!;
    this.cols = module.weight.size / this.rows;
    const rng = new Rng(opts.seed ?? 0);
    const unit = (n: number) => {
      const x = rng.normals(n, 1);
      const norm = Math.hypot(...x) || 1;
      return x.map((a) => a / norm);
    };
    this.u = this.buffer('u', engine.tensor(unit(this.rows), [this.rows]));
    this.v = this.buffer('v', engine.tensor(unit(this.cols), [this.cols]));
  }

  /** The weight as the wrapped module sees it: W / σ(W) (on the tape, so W gets its gradient). */
  normalizedWeight(): Tensor {
    const eps = this.opts.eps ?? 1e-12;
    const W = this.module.weight.value;
    const Wm = reshape(W, [this.rows, this.cols]);
    if (this.training) {
      const [u, v] = this.engine.noGrad(() => this.engine.scope(() => {
        const unit = (t: Tensor) => div(t, add(sqrt(sumSquares(t)), eps));
        let u = reshape(this.u.value, [1, this.rows]), v = reshape(this.v.value, [1, this.cols]);
        for (let i = 0; i < (this.opts.powerIterations ?? 1); i++) {
          v = unit(matmul(u, Wm));
          u = unit(matmul(v, Wm, { transposeB: true }));
        }
        return [reshape(u, [this.rows]), reshape(v, [this.cols])];
      }));
      this.u.value = u!;
      this.v.value = v!;
    }
    const Wv = matmul(reshape(this.v.value, [1, this.cols]), Wm, { transposeB: true });
    const sigma = sum(mul(Wv, reshape(this.u.value, [1, this.rows])));
    return div(W, sigma);
  }

  forward(x: Tensor): Tensor {
    const slot = this.module.weight;
    const original = slot.swap(this.normalizedWeight());
    try {
      return this.module.forward(x);
    } finally {
      // The tape keeps its own alias of W/σ for the backward pass; this handle can go.
      slot.swap(original).dispose();
    }
  }
}
