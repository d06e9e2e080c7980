import { Rng } from '../../data/rng.js';
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { ConditionalGenerator } from './generator.js';
import { truncatedNormals } from './truncation.js';

export interface GanSampleOptions {
  /** The class of each image. */
  labels: ArrayLike<number>;
  /** Redraw every z value above this in magnitude (default: none, plain normals). */
  truncation?: number;
  seed?: number;
}

/** Images [N, C, R, R] in [−1, 1] from the generator in eval mode (restored afterwards). */
export function sampleGan(generator: ConditionalGenerator, opts: GanSampleOptions): Tensor {
  const seed = opts.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail('sampleGan', `seed = ${seed} must be an integer`);
  const n = opts.labels.length, zDim = generator.config.zDim;
  if (n < 1) fail('sampleGan', 'labels must name at least one class');
  const z = generator.engine.tensor(truncatedNormals(new Rng(seed), n * zDim, opts.truncation), [n, zDim]);
  const was = generator.training;
  generator.eval();
  try {
    // The scope frees every intermediate activation; only the images leave it.
    return generator.engine.scope(() => generator.engine.noGrad(() => generator.forward(z, opts.labels)));
  } finally {
    generator.train(was);
    z.dispose();
  }
}
