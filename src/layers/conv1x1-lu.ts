import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { add, affine, conv2d, exp, matmul, mul, reshape, sum } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { HostCache } from './host.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { inverse, luDecompose, matmul as matmul64, orthogonalQ } from './linalg.js';
import type { Param } from './param.js';
import { Rng } from '../data/rng.js';
import { expectImage, perSample } from './util.js';

/** perm[i]: row of W that row i of L·U lands on; sign: the fixed signs of U's diagonal. */
export interface Conv1x1LUConfig { kind: 'conv1x1-lu'; channels: number; perm: number[]; sign: number[] }

/**
 * Invertible 1×1 convolution W = P·L·(U + diag(sign·exp(s))) (docs/flows.md §9, Glow's LU option): the
 * log-det H·W·Σs stays on the device; the inverse for decode is formed in float64 on the host.
 */
export class Conv1x1LU extends FlowLayer {
  readonly config: Conv1x1LUConfig;
  readonly lower: Param;
  readonly upper: Param;
  readonly logs: Param;
  private readonly consts: { P: Tensor; lowMask: Tensor; upMask: Tensor; eye: Tensor; sign: Tensor };
  private readonly cache: HostCache<Float64Array>;

  constructor(engine: Engine, config: { channels: number; perm?: number[]; sign?: number[] }, rng = new Rng(0)) {
    super(engine);
    const C = config.channels;
    let L: Float64Array = new Float64Array(C * C), U: Float64Array = new Float64Array(C * C);
    const s = new Float64Array(C);
    let perm = config.perm, sign = config.sign;
    if (!perm || !sign) {
      const g = new Float64Array(C * C);
      for (let i = 0; i < g.length; i++) g[i] = rng.normal();
      const lu = luDecompose(orthogonalQ(g, C), C);
      perm = lu.perm;
      sign = [];
      for (let i = 0; i < C; i++) {
        const d = lu.U[i * C + i]!;
        sign.push(d < 0 ? -1 : 1);
        s[i] = Math.log(Math.abs(d));
        lu.U[i * C + i] = 0;
      }
      for (let i = 0; i < C; i++) lu.L[i * C + i] = 0;
      L = lu.L;
      U = lu.U;
    }
    if (perm.length !== C || [...perm].sort((a, b) => a - b).some((v, i) => v !== i))
      fail('Conv1x1LU', `perm [${perm}] is not a permutation of 0…${C - 1}`);
    if (sign.length !== C || sign.some((v) => v !== 1 && v !== -1)) fail('Conv1x1LU', `sign must hold ${C} entries of ±1`);
    this.config = { kind: 'conv1x1-lu', channels: C, perm: [...perm], sign: [...sign] };
    const f32 = (a: Float64Array) => Float32Array.from(a);
    this.lower = this.param('lower', engine.tensor(f32(L), [C, C]));
    this.upper = this.param('upper', engine.tensor(f32(U), [C, C]));
    this.logs = this.param('logs', engine.tensor(f32(s), [C]));
    const P = new Float64Array(C * C), lowMask = new Float64Array(C * C), upMask = new Float64Array(C * C), eye = new Float64Array(C * C);
    for (let i = 0; i < C; i++) {
      P[perm[i]! * C + i] = 1;
      eye[i * C + i] = 1;
      for (let j = 0; j < C; j++) { if (j < i) lowMask[i * C + j] = 1; if (j > i) upMask[i * C + j] = 1; }
    }
    this.consts = {
      P: engine.tensor(P, [C, C]).keep(), lowMask: engine.tensor(lowMask, [C, C]).keep(),
      upMask: engine.tensor(upMask, [C, C]).keep(), eye: engine.tensor(eye, [C, C]).keep(),
      sign: engine.tensor(Float64Array.from(sign), [1, C]).keep(),
    };
    this.cache = new HostCache('Conv1x1LU', () => [this.lower, this.upper, this.logs], ([l, u, ls]) => {
      const Lh = new Float64Array(C * C), Uh = new Float64Array(C * C), Ph = new Float64Array(C * C);
      for (let i = 0; i < C; i++) {
        Ph[perm![i]! * C + i] = 1;
        Lh[i * C + i] = 1;
        Uh[i * C + i] = sign![i]! * Math.exp(ls![i]!);
        for (let j = 0; j < i; j++) Lh[i * C + j] = l![i * C + j]!;
        for (let j = i + 1; j < C; j++) Uh[i * C + j] = u![i * C + j]!;
      }
      const inv = inverse(matmul64(Ph, matmul64(Lh, Uh, C), C), C);
      if (!inv) fail('Conv1x1LU', 'the weight is singular');
      return inv;
    });
  }

  /** W on the device, differentiable in L, U and s. */
  weight(): Tensor {
    const c = this.consts;
    const L = add(mul(this.lower.value, c.lowMask), c.eye);
    const U = add(mul(this.upper.value, c.upMask), mul(c.eye, mul(c.sign, reshape(exp(this.logs.value), [1, this.config.channels]))));
    return matmul(c.P, matmul(L, U));
  }

  encode(x: Tensor): EncodeResult {
    const [N, C, H, W] = expectImage('Conv1x1LU', x, this.config.channels);
    const y = conv2d(x, reshape(this.weight(), [C, C, 1, 1]));
    return { y, logdet: perSample(this.engine, affine(sum(this.logs.value), H * W, 0), N) };
  }

  decode(y: Tensor): Tensor {
    const [, C] = expectImage('Conv1x1LU', y, this.config.channels);
    return conv2d(y, this.engine.tensor(this.cache.get(), [C, C, 1, 1]));
  }

  override async prepare(): Promise<void> { await this.cache.refresh(); }

  override dispose(): void {
    super.dispose();
    for (const t of Object.values(this.consts)) t.dispose();
  }
}
