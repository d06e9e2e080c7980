import { InflowError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { checkLabels } from '../../models/gan/generator.js';
import type { ConditionalGan } from '../../models/gan/conditional-gan.js';
import { hingeDiscriminatorLoss, hingeGeneratorLoss, multiHingeDiscriminatorLoss, multiHingeGeneratorLoss } from '../../models/gan/losses.js';
import { add, mul } from '../../ops/index.js';
import type { Ema } from '../ema.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import type { Optimizer } from '../optimizer.js';
import type { TensorData } from '../tensor-data.js';
import { adversarialGroups, type AdversarialOptions } from './gan.js';

/** discriminatorSteps: BigGAN's seed run used 4; ema: the generator's sampling weights. */
export interface ConditionalGanTaskOptions extends AdversarialOptions {
  /** The class of every training example (0…classes − 1). */
  labels: ArrayLike<number>;
  /** Weight of the Crammer–Singer term when the model's loss is 'multi-hinge' (default 0.05, as the seed run). */
  multiHingeWeight?: number;
}

/**
 * Conditional adversarial training (docs/gan.md §5), the class-conditional sibling of GanTask:
 * real images are judged with their labels, fakes with the class they were made for (uniform, so
 * every class gets the same share of the generator's practice). Losses, s the projection score:
 *  hinge:       L_D = E[relu(1 − s(x, y))] + E[relu(1 + s(G(z, y'), y'))],  L_G = −E[s(G(z, y'), y')]
 *  multi-hinge: the same plus w × the Crammer–Singer terms over the K + 1 logits (reals → y,
 *               fakes → "fake" for D; fakes → y' for G).
 * Metrics: 'discriminator' (D's last loss) and 'fakesCaught' (share of the G step's fakes whose score
 * is below 0, i.e. that D calls fake; with multi-hinge, whose largest logit is "fake").
 */
export class ConditionalGanTask implements TrainingTask<TensorData> {
  readonly kind = 'conditional-gan';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema | null;
  private readonly owned: Optimizer[] = [];

  constructor(readonly model: ConditionalGan, private readonly opts: ConditionalGanTaskOptions) {
    const w = opts.multiHingeWeight ?? 0.05;
    if (!(Number.isFinite(w) && w >= 0)) throw new InflowError(`ConditionalGanTask: multiHingeWeight = ${w} must be a number ≥ 0`);
    checkLabels('ConditionalGanTask', opts.labels, model.config.classes, opts.labels.length);
    this.groups = adversarialGroups('ConditionalGanTask', model, opts, this.owned);
    this.ema = opts.ema ?? null;
  }

  config(): Record<string, unknown> {
    return taskConfig(this.model, this.kind, { ganConfig: this.model.config, ...this.opts.config });
  }

  private fakes(ctx: StepContext): { z: Tensor; y: number[] } {
    const { zDim, classes } = this.model.config, n = ctx.indices.length;
    const z = new Float32Array(n * zDim);
    for (let i = 0; i < z.length; i++) z[i] = ctx.rng.normal();
    return { z: this.model.engine.tensor(z, [n, zDim]), y: Array.from({ length: n }, () => ctx.rng.below(classes)) };
  }

  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const { generator: G, discriminator: D, engine } = this.model;
    const multi = this.model.config.loss === 'multi-hinge', w = this.opts.multiHingeWeight ?? 0.05;
    if (data.count !== this.opts.labels.length) throw new InflowError(`ConditionalGanTask: ${data.count} examples but ${this.opts.labels.length} labels`);
    const real = engine.tensor(data.values(ctx.indices), [ctx.indices.length, ...data.shape]);
    const realY = ctx.indices.map((i) => this.opts.labels[i]!);
    let dLoss = NaN;
    try {
      for (let i = 0; i < (this.opts.discriminatorSteps ?? 1); i++) {
        const { z, y } = this.fakes(ctx);
        try {
          dLoss = (await ctx.update(this.groups[0]!, () => {
            // D's update needs no gradient through G.
            const fake = engine.noGrad(() => G.forward(z, y));
            const onReal = D.forward(real, realY), onFake = D.forward(fake, y);
            const hinge = hingeDiscriminatorLoss(onReal.score, onFake.score);
            return multi ? add(hinge, mul(multiHingeDiscriminatorLoss(onReal.logits, realY, onFake.logits), w)) : hinge;
          })).loss;
        } finally {
          z.dispose();
        }
      }
      const { z, y } = this.fakes(ctx);
      let judged: Tensor | null = null;
      try {
        const { loss } = await ctx.update(this.groups[1]!, () => {
          const out = D.forward(G.forward(z, y), y);
          judged = (multi ? out.logits : out.score).keep();
          const hinge = hingeGeneratorLoss(out.score);
          return multi ? add(hinge, mul(multiHingeGeneratorLoss(out.logits, y), w)) : hinge;
        });
        return { loss, metrics: { discriminator: dLoss, fakesCaught: await caught(judged, multi) } };
      } finally {
        z.dispose();
        (judged as Tensor | null)?.dispose();
      }
    } finally {
      real.dispose();
    }
  }

  dispose(): void {
    for (const o of this.owned) o.dispose();
  }
}

/** Share of fakes the discriminator calls fake: score < 0, or (multi-hinge) the "fake" logit the largest. */
async function caught(judged: Tensor | null, multi: boolean): Promise<number> {
  if (!judged) return NaN;
  const v = await judged.data();
  if (!multi) return v.filter((s) => s < 0).length / v.length;
  const [n, m] = judged.shape as [number, number];
  let count = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < m; k++) if (v[i * m + k]! > v[i * m + best]!) best = k;
    if (best === m - 1) count++;
  }
  return count / n;
}
