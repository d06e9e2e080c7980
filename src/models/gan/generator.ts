import { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { oneHot } from '../../layers/util.js';
import { BatchNorm2d } from '../../nn/batch-norm.js';
import type { Conv2d } from '../../nn/conv2d.js';
import { Embedding } from '../../nn/embedding.js';
import type { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import type { SpectralNorm } from '../../nn/spectral-norm.js';
import { relu, reshape, tanh } from '../../ops/index.js';
import { GeneratorBlock } from './blocks.js';
import { condDim, resolveGanConfig, type GanConfig } from './config.js';
import { snConv, snLinear } from './spectral.js';

/** Checks class labels against the class count; one line naming the first bad one. */
export function checkLabels(where: string, labels: ArrayLike<number>, classes: number, n: number): void {
  if (labels.length !== n) fail(where, `${labels.length} labels for ${n} examples`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) fail(where, `label ${y} at position ${i} is not a class 0…${classes - 1}`);
  }
}

/**
 * BigGAN-style conditional generator (docs/gan.md §4): z → spectrally normalised linear → 4×4 map
 * → up-blocks with conditional BatchNorm → BN → ReLU → conv3×3 → tanh, images in [−1, 1].
 */
export class ConditionalGenerator extends Module {
  readonly embed: Embedding | null;
  readonly input: SpectralNorm<Linear>;
  readonly blocks: GeneratorBlock[] = [];
  readonly outNorm: BatchNorm2d;
  readonly out: SpectralNorm<Conv2d>;

  readonly config: GanConfig;

  constructor(engine: Engine, config: GanConfig, seed = 0) {
    super(engine);
    this.config = resolveGanConfig(config, 'ConditionalGenerator');
    const rng = new Rng(seed), c = this.config, w = c.gWidths.map((m) => m * c.ch);
    this.embed = c.sharedDim > 0 ? this.child('embed', new Embedding(engine, c.classes, c.sharedDim, { rng })) : null;
    this.input = this.child('input', snLinear(engine, c.zDim, 16 * w[0]!, rng));
    for (let b = 0; b + 1 < w.length; b++)
      this.blocks.push(this.child(`blocks.${b}`, new GeneratorBlock(engine, w[b]!, w[b + 1]!, condDim(c), rng)));
    this.outNorm = this.child('outNorm', new BatchNorm2d(engine, w.at(-1)!));
    this.out = this.child('out', snConv(engine, w.at(-1)!, c.imageChannels, 3, rng));
  }

  /** The condition vectors of `labels`: one-hot rows or the shared embedding's. */
  condition(labels: ArrayLike<number>): Tensor {
    return this.embed ? this.embed.forward(labels) : oneHot(this.engine, labels, this.config.classes);
  }

  /** z [N, zDim], one class per row → images [N, C, R, R] in [−1, 1]. */
  forward(z: Tensor, labels: ArrayLike<number>): Tensor {
    const c = this.config, n = z.shape[0]!;
    if (z.rank !== 2 || z.shape[1] !== c.zDim) fail(this.path, `z ${shapeStr(z.shape)} must be [N, ${c.zDim}]`);
    checkLabels(this.path, labels, c.classes, n);
    const cond = this.condition(labels);
    let h = reshape(this.input.forward(z), [n, c.gWidths[0]! * c.ch, 4, 4]);
    for (const b of this.blocks) h = b.forward(h, cond);
    return tanh(this.out.forward(relu(this.outNorm.forward(h))));
  }
}
