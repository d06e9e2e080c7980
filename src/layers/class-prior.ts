import type { Engine } from '../engine/engine.js';
import { describeValue, fail, shapeStr } from '../engine/errors.js';
import { add, affine, exp, logsumexp, matmul, mul, neg, reshape, sub, sum, sumSquares } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { Rng } from '../data/rng.js';
import { Module } from './module.js';
import type { Param } from './param.js';
import { oneHot } from './util.js';

/**
 * A class-conditional diagonal Gaussian on the top latent: N(z; μ_y, diag(exp(2 s_y))) for class y.
 * Without a label the density is the equal-weight mixture over classes, so p(x) stays an exact,
 * unconditional likelihood (a flow with a Gaussian-mixture base, as in FlowGMM); with labels,
 * training fits one component per class and sampling can ask for a class. μ = 0, s = 0 at creation:
 * every component starts as the plain N(0, I) base.
 */
export class ClassPrior extends Module {
  readonly mean: Param;
  readonly logScale: Param;
  private readonly dims: number;

  constructor(engine: Engine, readonly classes: number, readonly shape: readonly [number, number, number]) {
    super(engine);
    this.dims = shape[0] * shape[1] * shape[2];
    this.mean = this.param('mean', engine.zeros([classes, ...shape]));
    this.logScale = this.param('logScale', engine.zeros([classes, ...shape]));
  }

  /** log N(z; μ_k, σ_k) for every image and class, [N, classes]. */
  classLogProbs(z: Tensor): Tensor {
    const N = this.checkLatent(z);
    const K = this.classes, D = this.dims;
    const mu = reshape(this.mean.value, [1, K, D]);
    const s = reshape(this.logScale.value, [1, K, D]);
    const scaled = mul(sub(reshape(z, [N, 1, D]), mu), exp(neg(s)));
    const logNorm = affine(reshape(sum(s, [2]), [1, K]), -1, -0.5 * D * Math.log(2 * Math.PI));
    return add(affine(sumSquares(scaled, [2]), -0.5, 0), logNorm);
  }

  /**
   * log p(z | y) per image when labels are given, else log Σ_k p(z | k)/K (the marginal), shape [N].
   * Labels are host integers in [0, classes).
   */
  logProb(z: Tensor, labels?: ArrayLike<number>): Tensor {
    const lp = this.classLogProbs(z);
    if (labels) return sum(mul(lp, this.oneHot(labels, lp.shape[0]!)), [1]);
    return this.logMeanExp(lp);
  }

  /** log Σ_k exp(lp[n, k]) / K per row of [N, classes]: the equal-weight mixture. */
  logMeanExp(lp: Tensor): Tensor {
    return affine(logsumexp(lp, [1]), 1, -Math.log(this.classes));
  }

  /** z = μ_y + T·σ_y·ε for the given labels, ε from the seeded host RNG. */
  sample(labels: ArrayLike<number>, rng: Rng, temperature: number): Tensor {
    const N = labels.length;
    const onehot = this.oneHot(labels, N);
    const pick = (p: Param) => reshape(matmul(onehot, reshape(p.value, [this.classes, this.dims])), [N, ...this.shape]);
    const eps = this.engine.tensor(rng.normals(N * this.dims, temperature), [N, ...this.shape]);
    return add(pick(this.mean), mul(exp(pick(this.logScale)), eps));
  }

  /** Labels drawn uniformly from the classes (the mixture's equal weights). */
  drawLabels(n: number, rng: Rng): number[] {
    return Array.from({ length: n }, () => rng.below(this.classes));
  }

  checkLabels(labels: ArrayLike<number>, n: number, where: string): void {
    if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number')
      fail(where, `labels = ${describeValue(labels)} must be an array of class numbers (0…${this.classes - 1})`);
    if (labels.length !== n) fail(where, `${labels.length} labels for ${n} images`);
    for (let i = 0; i < labels.length; i++) {
      const y: unknown = labels[i];
      if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= this.classes)
        fail(where, `label ${describeValue(y)} (image ${i}) is not a class of this model (0…${this.classes - 1})`);
    }
  }

  /** Checked labels as a one-hot [n, classes] tensor. */
  oneHot(labels: ArrayLike<number>, n: number): Tensor {
    this.checkLabels(labels, n, 'ClassPrior');
    return oneHot(this.engine, labels, this.classes);
  }

  private checkLatent(z: Tensor): number {
    if (z.rank !== 4 || z.shape.slice(1).join() !== this.shape.join())
      fail('ClassPrior', `latent ${shapeStr(z.shape)} does not match the prior's [N, ${this.shape.join(', ')}]`);
    return z.shape[0]!;
  }
}
