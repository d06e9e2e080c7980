import type { Engine } from '../engine/engine.js';
import { add, squeeze, unsqueeze } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { LayerConfig } from './layer.js';
import { Module } from './module.js';
import { layerFromConfig, splitFromConfig } from './registry.js';
import { Rng } from '../data/rng.js';
import type { FlowSequence } from './sequence.js';
import type { SplitLayer } from './split.js';

/** One level: squeeze → K steps → optional split (absent on the last level). */
export interface LevelConfig { steps: LayerConfig[]; split: LayerConfig | null }

export interface MultiScaleConfig { kind: 'multiscale'; inputShape: [number, number, number]; levels: LevelConfig[] }

class Level extends Module {
  readonly steps: FlowSequence[];
  readonly split: SplitLayer | null;

  constructor(engine: Engine, config: LevelConfig, rng: Rng) {
    super(engine);
    this.steps = config.steps.map((s, i) => this.child(`steps.${i}`, layerFromConfig(engine, s, rng) as unknown as FlowSequence));
    this.split = config.split ? this.child('split', splitFromConfig(engine, config.split, rng)) : null;
  }
}

/**
 * The multi-scale container (docs/flows.md §16): repeat L−1 times squeeze → K steps → split, then
 * squeeze → K steps. encode returns every latent (one per split, then the last level's output).
 */
export class MultiScaleFlow extends Module {
  readonly levels: Level[];

  constructor(engine: Engine, readonly spec: MultiScaleConfig, rng = new Rng(0)) {
    super(engine);
    this.levels = spec.levels.map((l, i) => this.child(`levels.${i}`, new Level(engine, l, rng)));
  }

  get config(): MultiScaleConfig {
    return {
      kind: 'multiscale', inputShape: this.spec.inputShape,
      levels: this.levels.map((l) => ({ steps: l.steps.map((s) => s.config), split: l.split?.config ?? null })),
    };
  }

  encode(x: Tensor): { z: Tensor[]; logdet: Tensor } {
    let h = x;
    let logdet = this.engine.zeros([x.shape[0]!]);
    const z: Tensor[] = [];
    for (const level of this.levels) {
      h = squeeze(h);
      for (const step of level.steps) {
        const r = step.encode(h);
        h = r.y;
        logdet = add(logdet, r.logdet);
      }
      if (level.split) {
        const r = level.split.encode(h);
        z.push(r.z);
        h = r.y;
        logdet = add(logdet, r.logdet);
      }
    }
    z.push(h);
    return { z, logdet };
  }

  decode(z: readonly Tensor[]): Tensor {
    let h = z[z.length - 1]!;
    let zi = z.length - 2;
    for (let l = this.levels.length - 1; l >= 0; l--) {
      const level = this.levels[l]!;
      if (level.split) h = level.split.decode(h, z[zi--]!);
      for (let s = level.steps.length - 1; s >= 0; s--) h = level.steps[s]!.decode(h);
      h = unsqueeze(h);
    }
    return h;
  }

  /** [C, H, W] of each latent in encode's order. */
  latentShapes(): Array<[number, number, number]> { return latentShapes(this.spec); }
}

/** [C, H, W] of each latent of an architecture, in encode's order (one per split, then the top). */
export function latentShapes(spec: MultiScaleConfig): Array<[number, number, number]> {
  let [C, H, W] = spec.inputShape;
  const out: Array<[number, number, number]> = [];
  for (const level of spec.levels) {
    C *= 4; H /= 2; W /= 2;
    if (level.split) {
      const kept = Math.floor(C / 2);
      out.push([C - kept, H, W]);
      C = kept;
    }
  }
  out.push([C, H, W]);
  return out;
}
