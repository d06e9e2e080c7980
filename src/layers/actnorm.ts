import type { Engine } from '../engine/engine.js';
import { add, affine, exp, log, mean, mul, neg, sqrt, square, sub, sum } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import type { Param } from './param.js';
import { expectImage, perSample } from './util.js';

export interface ActNormConfig { kind: 'actnorm'; channels: number }

/**
 * Per-channel y = (x − t)·exp(−s), log-det −H·W·Σs (docs/flows.md §8). The first encode sets t and s from
 * that batch (mean, log std) so the first outputs are standardised; loading weights skips this.
 */
export class ActNorm extends FlowLayer {
  readonly config: ActNormConfig;
  readonly bias: Param;
  readonly logs: Param;
  initialized = false;

  constructor(engine: Engine, config: Omit<ActNormConfig, 'kind'>) {
    super(engine);
    this.config = { kind: 'actnorm', channels: config.channels };
    this.bias = this.param('bias', engine.zeros([1, config.channels, 1, 1]));
    this.logs = this.param('logs', engine.zeros([1, config.channels, 1, 1]));
  }

  private initFrom(x: Tensor): void {
    const e = this.engine;
    const [t, s] = e.noGrad(() => e.scope(() => {
      const m = mean(x, [0, 2, 3], true);
      const std = sqrt(mean(square(sub(x, m)), [0, 2, 3], true));
      return [m, log(affine(std, 1, 1e-8))];
    }));
    this.bias.value = t!;
    this.logs.value = s!;
    this.initialized = true;
  }

  encode(x: Tensor): EncodeResult {
    const [N, , H, W] = expectImage('ActNorm', x, this.config.channels);
    if (!this.initialized) this.initFrom(x);
    const y = mul(sub(x, this.bias.value), exp(neg(this.logs.value)));
    return { y, logdet: perSample(this.engine, affine(sum(this.logs.value), -H * W, 0), N) };
  }

  decode(y: Tensor): Tensor {
    expectImage('ActNorm', y, this.config.channels);
    return add(mul(y, exp(this.logs.value)), this.bias.value);
  }
}
