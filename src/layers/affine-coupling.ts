import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { add, affine, concat, div, exp, mul, neg, sigmoid, softplus, split, sub, tanh } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { CouplingNet, couplingNetParams } from './coupling-net.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { Rng } from '../data/rng.js';
import { deinterleave, expectImage, sumPerSample, zeroLogdet } from './util.js';

/**
 * 'finc': y2 = x2·exp(2·tanh(h_s/2)) + t (FInC, h_s = even, t = odd NN channels);
 * 'glow': y2 = (x2 + t)·σ(h + 2) (Glow / CInC, t = even, h = odd);
 * 'additive': y2 = x2 + t.
 */
export type CouplingForm = 'finc' | 'glow' | 'additive';

export interface AffineCouplingConfig { kind: 'affine-coupling'; channels: number; width: number; form: CouplingForm; classes?: number }

const half = (C: number) => Math.floor(C / 2);

export const affineCouplingParams = (c: Omit<AffineCouplingConfig, 'kind'>): number =>
  couplingNetParams({ inChannels: half(c.channels), outChannels: (c.form === 'additive' ? 1 : 2) * (c.channels - half(c.channels)), width: c.width, classes: c.classes ?? 0 });

/** log σ(z) without overflow: −softplus(−z). */
export const logSigmoid = (z: Tensor): Tensor => neg(softplus(neg(z)));

/** x1 (first ⌊C/2⌋ channels) passes through and conditions an affine map of x2 (docs/flows.md §10). */
export class AffineCoupling extends FlowLayer {
  readonly config: AffineCouplingConfig;
  readonly net: CouplingNet;

  constructor(engine: Engine, config: Omit<AffineCouplingConfig, 'kind'>, rng = new Rng(0)) {
    super(engine);
    const { channels: C, width, form, classes } = config;
    if (C < 2) fail('AffineCoupling', `needs at least 2 channels, got ${C}`);
    if (!['finc', 'glow', 'additive'].includes(form)) fail('AffineCoupling', `unknown form '${String(form)}' (finc, glow or additive)`);
    this.config = { kind: 'affine-coupling', channels: C, width, form, ...(classes ? { classes } : {}) };
    const c2 = C - half(C);
    this.net = this.child('net', new CouplingNet(engine, { inChannels: half(C), outChannels: (form === 'additive' ? 1 : 2) * c2, width, classes: classes ?? 0 }, rng));
  }

  private parts(x: Tensor): [Tensor, Tensor] {
    const C = this.config.channels;
    return split(x, [half(C), C - half(C)]) as [Tensor, Tensor];
  }

  encode(x: Tensor): EncodeResult {
    expectImage('AffineCoupling', x, this.config.channels);
    const [x1, x2] = this.parts(x);
    const h = this.net.forward(x1);
    switch (this.config.form) {
      case 'additive':
        return { y: concat([x1, add(x2, h)]), logdet: zeroLogdet(x) };
      case 'finc': {
        const [hs, t] = deinterleave(h);
        const logS = affine(tanh(affine(hs, 0.5, 0)), 2, 0);
        return { y: concat([x1, add(mul(x2, exp(logS)), t)]), logdet: sumPerSample(logS) };
      }
      case 'glow': {
        const [t, raw] = deinterleave(h);
        const z = affine(raw, 1, 2);
        return { y: concat([x1, mul(add(x2, t), sigmoid(z))]), logdet: sumPerSample(logSigmoid(z)) };
      }
    }
  }

  decode(y: Tensor): Tensor {
    expectImage('AffineCoupling', y, this.config.channels);
    const [x1, y2] = this.parts(y);
    const h = this.net.forward(x1);
    switch (this.config.form) {
      case 'additive':
        return concat([x1, sub(y2, h)]);
      case 'finc': {
        const [hs, t] = deinterleave(h);
        const logS = affine(tanh(affine(hs, 0.5, 0)), 2, 0);
        return concat([x1, mul(sub(y2, t), exp(neg(logS)))]);
      }
      case 'glow': {
        const [t, raw] = deinterleave(h);
        return concat([x1, sub(div(y2, sigmoid(affine(raw, 1, 2))), t)]);
      }
    }
  }
}
