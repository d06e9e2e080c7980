import type { Corner } from '../ops/index.js';
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { solve } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { EncodeResult } from './layer.js';
import { MaskedKernelLayer } from './masked-kernel.js';
import { cornerConv, parseCorners } from './pcb.js';
import { Rng } from '../data/rng.js';
import { expectImage, requireInt, zeroLogdet } from './util.js';

export interface InverseConvConfig { kind: 'inverse-conv'; channels: number; kernelSize: number; groups: number; corners: Corner[] }

export const inverseConvParams = ({ channels: C, kernelSize: k, groups }: Pick<InverseConvConfig, 'channels' | 'kernelSize' | 'groups'>): number =>
  C * (C / groups) * k * k;

/**
 * Inverse-Flow layer (docs/flows.md §6): encode (the training direction) is the wavefront solve x = T⁻¹y,
 * decode (sampling) the plain parallel convolution. Training gradients come from the solve op's
 * rule of docs/inverse.md §6 (reverse wavefront, minus the convolution weight gradient). Unit diagonal: log-det 0.
 */
export class InverseConv extends MaskedKernelLayer {
  readonly config: InverseConvConfig;

  constructor(engine: Engine, config: { channels: number; kernelSize: number; groups?: number; corners?: Corner[] },
    rng = new Rng(0), initScale = 0.05) {
    const C = requireInt('InverseConv', 'channels', config.channels);
    const k = requireInt('InverseConv', 'kernelSize', config.kernelSize);
    const groups = requireInt('InverseConv', 'groups', config.groups ?? (C % 4 === 0 ? 4 : 1));
    if (C % groups !== 0) fail('InverseConv', `groups = ${groups} must divide channels = ${C}`);
    super(engine, C, C / groups, k, rng, initScale);
    this.config = { kind: 'inverse-conv', channels: C, kernelSize: k, groups, corners: parseCorners('InverseConv', config.corners, groups) };
  }

  encode(x: Tensor): EncodeResult {
    expectImage('InverseConv', x, this.config.channels);
    const { groups, corners } = this.config;
    return { y: solve(x, this.kernel(), { groups, unitDiag: true, corners, algorithm: this.algorithm }), logdet: zeroLogdet(x) };
  }

  decode(y: Tensor): Tensor {
    expectImage('InverseConv', y, this.config.channels);
    return cornerConv(y, this.kernel(), this.config.corners);
  }
}
