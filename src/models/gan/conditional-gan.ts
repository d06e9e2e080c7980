import type { Engine } from '../../engine/engine.js';
import { Module } from '../../nn/module.js';
import { resolveGanConfig, type GanConfig } from './config.js';
import { ProjectionDiscriminator } from './discriminator.js';
import { ConditionalGenerator } from './generator.js';

/** Both networks under one root, so training checkpoints hold both (docs/gan.md). */
export class ConditionalGan extends Module {
  readonly config: GanConfig;
  readonly generator: ConditionalGenerator;
  readonly discriminator: ProjectionDiscriminator;

  constructor(engine: Engine, config: GanConfig, seed = 0) {
    super(engine);
    this.config = resolveGanConfig(config, 'ConditionalGan');
    this.generator = this.child('generator', new ConditionalGenerator(engine, this.config, 2 * seed));
    this.discriminator = this.child('discriminator', new ProjectionDiscriminator(engine, this.config, 2 * seed + 1));
  }
}
