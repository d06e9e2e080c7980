import { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { oneHot } from '../../layers/util.js';
import type { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { SpectralNorm } from '../../nn/spectral-norm.js';
import { add, mul, relu, sum } from '../../ops/index.js';
import { DiscriminatorBlock } from './blocks.js';
import { headOutputs, resolveGanConfig, type GanConfig } from './config.js';
import { checkLabels } from './generator.js';
import { snLinear } from './spectral.js';

/** What the discriminator says about a batch. */
export interface DiscriminatorOutput {
  /** [N, M]: ψ(h) + ⟨e_k, h⟩ for every class k (M = K, or K + 1 with the "fake" class last). */
  logits: Tensor;
  /** [N]: the logit of each example's own class, the score the plain hinge loss reads. */
  score: Tensor;
}

/**
 * BigGAN-style projection discriminator (docs/gan.md §4): down-blocks → ReLU → sum over positions
 * → h [N, C]; then ψ(h) (a linear to one number) plus the projection of h on every class
 * embedding, all spectrally normalised.
 */
export class ProjectionDiscriminator extends Module {
  readonly blocks: DiscriminatorBlock[] = [];
  readonly psi: SpectralNorm<Linear>;
  /** Weight [C, M]: column k is class k's embedding e_k. */
  readonly embed: SpectralNorm<Linear>;

  readonly config: GanConfig;

  constructor(engine: Engine, config: GanConfig, seed = 1) {
    super(engine);
    this.config = resolveGanConfig(config, 'ProjectionDiscriminator');
    const rng = new Rng(seed), c = this.config;
    const downs = Math.log2(c.resolution / 4);
    let inC = c.imageChannels;
    c.dWidths.forEach((m, b) => {
      const outC = m * c.ch;
      this.blocks.push(this.child(`blocks.${b}`, new DiscriminatorBlock(engine, inC, outC, rng, { downsample: b < downs, preactivation: b > 0 })));
      inC = outC;
    });
    this.psi = this.child('psi', snLinear(engine, inC, 1, rng));
    this.embed = this.child('embed', snLinear(engine, inC, headOutputs(c), rng, false));
  }

  /** x [N, C, R, R] in [−1, 1]; labels: the class each image claims (real: its label; fake: the class it was made for). */
  forward(x: Tensor, labels: ArrayLike<number>): DiscriminatorOutput {
    const c = this.config, n = x.shape[0]!;
    if (x.rank !== 4 || x.shape[1] !== c.imageChannels || x.shape[2] !== c.resolution || x.shape[3] !== c.resolution)
      fail(this.path, `images ${shapeStr(x.shape)} must be [N, ${c.imageChannels}, ${c.resolution}, ${c.resolution}]`);
    checkLabels(this.path, labels, c.classes, n);
    let h = x;
    for (const b of this.blocks) h = b.forward(h);
    const pooled = sum(relu(h), [2, 3]);
    const logits = add(this.embed.forward(pooled), this.psi.forward(pooled));
    const score = sum(mul(logits, oneHot(this.engine, labels, headOutputs(c))), [1]);
    return { logits, score };
  }
}
