import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { add, affine, concat, div, mul, sigmoid, split, sub } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { logSigmoid } from './affine-coupling.js';
import { CouplingNet, couplingNetParams } from './coupling-net.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { Rng } from '../data/rng.js';
import { deinterleave, expectImage, sumPerSample } from './util.js';

export interface QuadCouplingConfig { kind: 'quad-coupling'; channels: number; width: number; classes?: number }

export const quadCouplingParams = ({ channels: C, width, classes = 0 }: Omit<QuadCouplingConfig, 'kind'>): number =>
  [1, 2, 3].reduce((s, j) => s + couplingNetParams({ inChannels: j * C / 4, outChannels: C / 2, width, classes }), 0);

/**
 * CInC Quad-coupling (docs/flows.md §11): y1 = x1, y_{j+1} = (x_{j+1} + t_j)·σ(h_j + 2) with
 * (t_j, h_j) = NN_j(x1…x_j). Encode is parallel (networks see inputs only); decode recovers the blocks
 * in order, three network calls in sequence — not the reference code's inconsistent reverse.
 */
export class QuadCoupling extends FlowLayer {
  readonly config: QuadCouplingConfig;
  private readonly nets: CouplingNet[];

  constructor(engine: Engine, config: Omit<QuadCouplingConfig, 'kind'>, rng = new Rng(0)) {
    super(engine);
    const { channels: C, width, classes } = config;
    if (C % 4 !== 0) fail('QuadCoupling', `channels = ${C} must be a multiple of 4`);
    this.config = { kind: 'quad-coupling', channels: C, width, ...(classes ? { classes } : {}) };
    this.nets = [1, 2, 3].map((j) =>
      this.child(`net${j}`, new CouplingNet(engine, { inChannels: j * C / 4, outChannels: C / 2, width, classes: classes ?? 0 }, rng)));
  }

  encode(x: Tensor): EncodeResult {
    expectImage('QuadCoupling', x, this.config.channels);
    const xs = split(x, 4);
    const ys = [xs[0]!];
    const logs: Tensor[] = [];
    for (let j = 1; j < 4; j++) {
      const [t, raw] = deinterleave(this.nets[j - 1]!.forward(j === 1 ? xs[0]! : concat(xs.slice(0, j))));
      const z = affine(raw, 1, 2);
      ys.push(mul(add(xs[j]!, t), sigmoid(z)));
      logs.push(sumPerSample(logSigmoid(z)));
    }
    return { y: concat(ys), logdet: add(add(logs[0]!, logs[1]!), logs[2]!) };
  }

  decode(y: Tensor): Tensor {
    expectImage('QuadCoupling', y, this.config.channels);
    const ys = split(y, 4);
    const xs = [ys[0]!];
    for (let j = 1; j < 4; j++) {
      const [t, raw] = deinterleave(this.nets[j - 1]!.forward(j === 1 ? xs[0]! : concat(xs)));
      xs.push(sub(div(ys[j]!, sigmoid(affine(raw, 1, 2))), t));
    }
    return concat(xs);
  }
}
