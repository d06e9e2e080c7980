import type { PlateSceneSet } from '../../data/plates/dataset.js';
import { disposeTargets, targetTensors, yoloLoss } from '../../models/plates/loss.js';
import { plateDetectorAp } from '../../models/plates/evaluate.js';
import type { PlateDetector } from '../../models/plates/plate-detector.js';
import { DEFAULT_LOSS_WEIGHTS, yoloTargets, type YoloLossWeights } from '../../models/plates/targets.js';
import type { ParamGroup, StepContext, StepOutcome, TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';

export interface PlateDetectorTaskOptions {
  optimizer?: Optimizer;
  /** Held-out scenes: the evaluation is AP@0.5 on the first evalCount of them. */
  test?: PlateSceneSet | null;
  evalCount?: number;
  loss?: YoloLossWeights;
}

/**
 * Training of the plate detector (docs/plates.md §5): each step renders its batch's scenes from
 * their seeds (the data are the scene indices, so a resumed run sees the same images), builds the
 * YOLO targets on the host and takes one step on the objectness + box loss.
 */
export class PlateDetectorTask implements TrainingTask<PlateSceneSet> {
  readonly kind = 'plate-detector';
  readonly groups: readonly ParamGroup[];
  private readonly ownsOptimizer: boolean;

  constructor(readonly model: PlateDetector, private readonly opts: PlateDetectorTaskOptions = {}) {
    const optimizer = opts.optimizer ?? new Adam(model.engine);
    this.ownsOptimizer = !opts.optimizer;
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
  }

  config(): Record<string, unknown> { return { ...this.model.config }; }

  async step(data: PlateSceneSet, ctx: StepContext): Promise<StepOutcome> {
    const { model } = this, engine = model.engine, S = model.config.inputSize;
    const scenes = ctx.indices.map((i) => data.scene(i));
    const values = new Float32Array(scenes.length * 3 * S * S);
    scenes.forEach((sc, i) => values.set(sc.image.data, i * 3 * S * S));
    const targets = yoloTargets(scenes.map((sc) => sc.plates.map((p) => p.box)), model.config, this.opts.loss ?? DEFAULT_LOSS_WEIGHTS);
    const x = engine.tensor(values, [scenes.length, 3, S, S]), t = targetTensors(engine, targets);
    try {
      const { loss } = await ctx.update(this.groups[0]!, () => yoloLoss(model.forward(x), t));
      return { loss, metrics: { plates: targets.positives } };
    } finally {
      x.dispose();
      disposeTargets(t);
    }
  }

  async evaluate(): Promise<number | null> {
    const test = this.opts.test;
    return test ? (await plateDetectorAp(this.model, test, { count: Math.min(test.count, this.opts.evalCount ?? test.count) })).ap : null;
  }

  dispose(): void {
    if (this.ownsOptimizer) this.groups[0]!.optimizer.dispose();
  }
}
