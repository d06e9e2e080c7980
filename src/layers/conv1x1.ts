import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { add, affine, conv2d, mul, reshape, sub, sum } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { HostCache } from './host.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { inverse, orthogonalQ, slogdet, transpose } from './linalg.js';
import type { Param } from './param.js';
import { Rng } from '../data/rng.js';
import { expectImage, perSample } from './util.js';

export interface Conv1x1Config { kind: 'conv1x1'; channels: number }

interface Dense { logAbsDet: number; inv: Float64Array; invT: Float64Array }

/**
 * Invertible 1×1 convolution with a dense C×C matrix, initialised orthogonal (Q of a Gaussian's QR).
 * log|det W| and W⁻¹ are computed in float64 on the host (docs/flows.md §9); the log-det's
 * gradient W⁻ᵀ enters through a term whose value is exactly zero.
 */
export class Conv1x1 extends FlowLayer {
  readonly config: Conv1x1Config;
  readonly weight: Param;
  private readonly cache: HostCache<Dense>;

  constructor(engine: Engine, config: Omit<Conv1x1Config, 'kind'>, rng = new Rng(0)) {
    super(engine);
    const C = config.channels;
    this.config = { kind: 'conv1x1', channels: C };
    const g = new Float64Array(C * C);
    for (let i = 0; i < g.length; i++) g[i] = rng.normal();
    const q = Float64Array.from(Float32Array.from(orthogonalQ(g, C)));
    this.weight = this.param('weight', engine.tensor(Float32Array.from(q), [C, C]));
    this.cache = new HostCache('Conv1x1', () => [this.weight], ([w]) => {
      const { logAbs } = slogdet(w!, C);
      const inv = inverse(w!, C);
      if (!inv || !Number.isFinite(logAbs)) fail('Conv1x1', `the ${C}×${C} weight is singular: the layer is not invertible`);
      return { logAbsDet: logAbs, inv, invT: transpose(inv, C) };
    });
    this.cache.seed([q]);
  }

  encode(x: Tensor): EncodeResult {
    const [N, C, H, W] = expectImage('Conv1x1', x, this.config.channels);
    const w = this.weight.value;
    const y = conv2d(x, reshape(w, [C, C, 1, 1]));
    const d = this.cache.get();
    const frozen = this.engine.noGrad(() => affine(w, 1, 0));
    // Value: exactly H·W·log|det W|; gradient: H·W·W⁻ᵀ.
    const zeroWithGrad = sum(mul(sub(w, frozen), this.engine.tensor(d.invT, [C, C])));
    const logdet = affine(add(zeroWithGrad, d.logAbsDet), H * W, 0);
    return { y, logdet: perSample(this.engine, logdet, N) };
  }

  decode(y: Tensor): Tensor {
    const [, C] = expectImage('Conv1x1', y, this.config.channels);
    return conv2d(y, this.engine.tensor(this.cache.get().inv, [C, C, 1, 1]));
  }

  override async prepare(): Promise<void> { await this.cache.refresh(); }
}
