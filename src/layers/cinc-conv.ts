import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { add, affine, exp, mul, reshape, solve, sub, sum, type Corner } from '../ops/index.js';
import { cornerConv, parseCorners } from './pcb.js';
import type { Tensor } from '../engine/tensor.js';
import { HostCache } from './host.js';
import type { EncodeResult } from './layer.js';
import { MaskedKernelLayer } from './masked-kernel.js';
import type { Param } from './param.js';
import { Rng } from '../data/rng.js';
import { expectImage, perSample, requireInt } from './util.js';

/** corner: 'tl' is CInC itself; the others serve the Emerging-style baseline's second pass. */
export interface CIncConvConfig { kind: 'cinc-conv'; channels: number; kernelSize: number; tolerance: number; corner: Corner }

export const cincConvParams = ({ channels: C, kernelSize: k }: Pick<CIncConvConfig, 'channels' | 'kernelSize'>): number =>
  C * C * k * k + 2 * C;

/**
 * CInC convolution (docs/flows.md §2, §5): one TL-padded masked k×k convolution over all channels, bias,
 * centre diagonal exp(s) — positive by construction, so training cannot reach a singular layer —
 * and log-det H·W·Σ s = H·W·Σ log|K_cc|. Decode checks the paper's invertibility condition
 * (det K_c = Π K_cc ≠ 0) and refuses, naming the layer, when an entry is at or below the tolerance.
 */
export class CIncConv extends MaskedKernelLayer {
  readonly config: CIncConvConfig;
  readonly logDiag: Param;
  readonly bias: Param;
  private readonly diag: HostCache<Float64Array>;

  /**
   * initScale defaults to 0.05 (the FInC init) shrunk by √(9 / (C·k²)) once C·k² > 9: a CInC kernel
   * mixes all C channels, and with a fixed scale the off-centre sum outgrows the unit diagonal as C
   * grows, which makes the triangular inverse ill-conditioned in float32 (see the kernel-scale table).
   */
  constructor(engine: Engine, config: { channels: number; kernelSize: number; tolerance?: number; corner?: Corner }, rng = new Rng(0), initScale?: number) {
    const C = requireInt('CIncConv', 'channels', config.channels);
    const k = requireInt('CIncConv', 'kernelSize', config.kernelSize);
    super(engine, C, C, k, rng, initScale ?? 0.05 * Math.min(1, 3 / Math.sqrt(C * k * k)));
    this.config = { kind: 'cinc-conv', channels: C, kernelSize: k, tolerance: config.tolerance ?? 1e-6, corner: parseCorners('CIncConv', [config.corner ?? 'tl'], 1)[0]! };
    this.logDiag = this.param('logdiag', engine.zeros([C]));
    this.bias = this.param('bias', engine.zeros([C]));
    this.diag = new HostCache('CIncConv', () => [this.logDiag], ([s]) => s!.map(Math.exp));
  }

  /** V ⊙ M + E ⊙ exp(s): the diagonal entry of row c is exp(s_c). */
  override kernel(): Tensor {
    const d = reshape(exp(this.logDiag.value), [this.config.channels, 1, 1, 1]);
    return add(mul(this.weight.value, this.mask), mul(this.unit, d));
  }

  encode(x: Tensor): EncodeResult {
    const [N, , H, W] = expectImage('CIncConv', x, this.config.channels);
    const y = cornerConv(x, this.kernel(), [this.config.corner], this.bias.value);
    return { y, logdet: perSample(this.engine, affine(sum(this.logDiag.value), H * W, 0), N) };
  }

  /** Throws unless every centre diagonal entry exceeds the tolerance in magnitude. */
  checkInvertible(): void {
    const d = this.diag.get();
    const tol = this.config.tolerance;
    const bad = [...d].findIndex((v) => !(Math.abs(v) > tol));
    if (bad >= 0)
      fail(`CIncConv '${this.path}'`, `centre diagonal entry K[${bad},${bad},${this.config.kernelSize - 1},${this.config.kernelSize - 1}] = ${d[bad]} ` +
        `is zero or within ${tol} of it, so det of the centre block is 0 and the layer is not invertible: refusing to decode`);
  }

  decode(y: Tensor): Tensor {
    expectImage('CIncConv', y, this.config.channels);
    this.checkInvertible();
    return solve(sub(y, reshape(this.bias.value, [this.config.channels, 1, 1])), this.kernel(), { corners: this.config.corner, algorithm: this.algorithm });
  }

  override async prepare(): Promise<void> { await this.diag.refresh(); }
}
