import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { solve } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { EncodeResult } from './layer.js';
import { MaskedKernelLayer } from './masked-kernel.js';
import { allCorners, cornerConv } from './pcb.js';
import { Rng } from '../data/rng.js';
import { expectImage, requireInt, zeroLogdet } from './util.js';

export interface FIncUnitConfig { kind: 'finc-unit'; channels: number; kernelSize: number }

export const fincUnitParams = ({ channels: C, kernelSize: k }: Omit<FIncUnitConfig, 'kind'>): number => C * (C / 4) * k * k;

/**
 * FInC unit (docs/flows.md §4): four channel groups, each a unit-diagonal masked k×k convolution padded at
 * its own corner TL/TR/BL/BR. log-det 0. Decode is one grouped wavefront solve over all four groups.
 */
export class FIncUnit extends MaskedKernelLayer {
  readonly config: FIncUnitConfig;

  constructor(engine: Engine, config: Omit<FIncUnitConfig, 'kind'>, rng = new Rng(0), initScale = 0.05) {
    const C = requireInt('FIncUnit', 'channels', config.channels, 4);
    const k = requireInt('FIncUnit', 'kernelSize', config.kernelSize);
    if (C % 4 !== 0) fail('FIncUnit', `channels = ${C} must be a multiple of 4 (four corner groups)`);
    super(engine, C, C / 4, k, rng, initScale);
    this.config = { kind: 'finc-unit', channels: C, kernelSize: k };
  }

  encode(x: Tensor): EncodeResult {
    expectImage('FIncUnit', x, this.config.channels);
    return { y: cornerConv(x, this.kernel(), allCorners), logdet: zeroLogdet(x) };
  }

  decode(y: Tensor): Tensor {
    expectImage('FIncUnit', y, this.config.channels);
    return solve(y, this.kernel(), { groups: 4, unitDiag: true, corners: allCorners, algorithm: this.algorithm });
  }
}
