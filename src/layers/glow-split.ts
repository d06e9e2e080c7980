import type { Engine } from '../engine/engine.js';
import { add, affine, concat, conv2d, exp, mul, neg, split, sub } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { Param } from './param.js';
import { SplitLayer, type SplitResult } from './split.js';
import { deinterleave, expectImage, sumPerSample } from './util.js';

export interface GlowSplitConfig { kind: 'glow-split'; channels: number }

const parts = (C: number) => [Math.floor(C / 2), C - Math.floor(C / 2)] as const;

export const glowSplitParams = ({ channels }: Omit<GlowSplitConfig, 'kind'>): number => {
  const [c1, c2] = parts(channels);
  return 2 * c2 * c1 * 9 + 4 * c2;
};

/**
 * Glow's conditional split (docs/flows.md §13): (μ, log σ) = zero-initialised conv3×3(x1) with exp(3·logs)
 * output scaling; z = (x2 − μ)·exp(−log σ), log-det −Σ log σ, then z ~ N(0, I) in the container.
 * Sampling at temperature T draws z ~ N(0, T²I), i.e. x2 ~ N(μ, (Tσ)²) as in Glow.
 */
export class GlowSplit extends SplitLayer {
  readonly config: GlowSplitConfig;
  private readonly weight: Param;
  private readonly bias: Param;
  private readonly logs: Param;

  constructor(engine: Engine, config: { channels: number }) {
    super(engine);
    this.config = { kind: 'glow-split', channels: config.channels };
    const [c1, c2] = parts(config.channels);
    this.weight = this.param('prior.weight', engine.zeros([2 * c2, c1, 3, 3]));
    this.bias = this.param('prior.bias', engine.zeros([2 * c2]));
    this.logs = this.param('prior.logs', engine.zeros([1, 2 * c2, 1, 1]));
  }

  private prior(x1: Tensor): [Tensor, Tensor] {
    const h = conv2d(x1, this.weight.value, { bias: this.bias.value, pad: 'same' });
    return deinterleave(mul(h, exp(affine(this.logs.value, 3, 0))));
  }

  encode(x: Tensor): SplitResult {
    expectImage('GlowSplit', x, this.config.channels);
    const [x1, x2] = split(x, [...parts(this.config.channels)]) as [Tensor, Tensor];
    const [mu, logSigma] = this.prior(x1);
    return { y: x1, z: mul(sub(x2, mu), exp(neg(logSigma))), logdet: neg(sumPerSample(logSigma)) };
  }

  decode(y: Tensor, z: Tensor): Tensor {
    const [mu, logSigma] = this.prior(y);
    return concat([y, add(mu, mul(z, exp(logSigma)))]);
  }
}
