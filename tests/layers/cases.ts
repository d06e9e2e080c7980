import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import {
  ActNorm, AffineCoupling, CIncConv, Conv1x1, Conv1x1LU, EmergingConv, FIncUnit, GlowSplit, InverseConv, Preprocess, QuadCoupling,
  SplitPrior, Squeeze, Rng, type FlowLayer, type SplitLayer,
} from '../../src/layers/index.js';
import type { Bijection } from './contract.js';

export const asFlow = (l: FlowLayer): Bijection => ({
  module: l,
  encode: (x) => { const r = l.encode(x); return { outs: [r.y], logdet: r.logdet }; },
  decode: ([y]) => l.decode(y!),
});

export const asSplit = (l: SplitLayer): Bijection => ({
  module: l,
  encode: (x) => { const r = l.encode(x); return { outs: [r.y, r.z], logdet: r.logdet }; },
  decode: ([y, z]) => l.decode(y!, z!),
});

export interface LayerCase {
  name: string;
  make: (e: Engine) => Bijection;
  /** [C, H, W] inputs: square and non-square. */
  shapes: Array<[number, number, number]>;
  /** Input values for element i (default a deterministic spread in [−1, 1]). */
  input?: (i: number) => number;
  /** Parameter perturbation scale before testing (default 0.05). */
  scale?: number;
}

const sq: Array<[number, number, number]> = [[4, 4, 4], [4, 6, 5]];
const rng = (s: number) => new Rng(s);

export const layerCases: LayerCase[] = [
  { name: 'Squeeze', make: (e) => asFlow(new Squeeze(e)), shapes: [[4, 4, 4], [4, 6, 4]] },
  { name: 'Preprocess', make: (e) => asFlow(new Preprocess(e)), shapes: sq, input: (i) => 128 + 120 * Math.sin(1.7 * i + 0.3) },
  { name: 'ActNorm', make: (e) => asFlow(new ActNorm(e, { channels: 4 })), shapes: sq, scale: 0.3 },
  { name: 'Conv1x1 dense', make: (e) => asFlow(new Conv1x1(e, { channels: 4 }, rng(1))), shapes: sq, scale: 0.2 },
  { name: 'Conv1x1 LU', make: (e) => asFlow(new Conv1x1LU(e, { channels: 4 }, rng(2))), shapes: sq, scale: 0.2 },
  { name: 'AffineCoupling finc', make: (e) => asFlow(new AffineCoupling(e, { channels: 4, width: 8, form: 'finc' }, rng(3))), shapes: sq, scale: 0.3 },
  { name: 'AffineCoupling glow', make: (e) => asFlow(new AffineCoupling(e, { channels: 4, width: 8, form: 'glow' }, rng(4))), shapes: sq, scale: 0.3 },
  { name: 'AffineCoupling additive', make: (e) => asFlow(new AffineCoupling(e, { channels: 4, width: 8, form: 'additive' }, rng(5))), shapes: sq, scale: 0.3 },
  { name: 'QuadCoupling', make: (e) => asFlow(new QuadCoupling(e, { channels: 4, width: 8 }, rng(6))), shapes: sq, scale: 0.3 },
  { name: 'CIncConv k3', make: (e) => asFlow(new CIncConv(e, { channels: 4, kernelSize: 3 }, rng(7))), shapes: sq, scale: 0.1 },
  { name: 'CIncConv k2 BR corner', make: (e) => asFlow(new CIncConv(e, { channels: 4, kernelSize: 2, corner: 'br' }, rng(12))), shapes: sq, scale: 0.1 },
  { name: 'EmergingConv k3 (TL then BR)', make: (e) => asFlow(new EmergingConv(e, { channels: 4, kernelSize: 3 }, rng(13))), shapes: sq, scale: 0.1 },
  { name: 'FIncUnit k3', make: (e) => asFlow(new FIncUnit(e, { channels: 4, kernelSize: 3 }, rng(8))), shapes: sq, scale: 0.1 },
  { name: 'InverseConv k3 4 groups', make: (e) => asFlow(new InverseConv(e, { channels: 4, kernelSize: 3 }, rng(9))), shapes: sq, scale: 0.1 },
  { name: 'InverseConv k2 1 group br', make: (e) => asFlow(new InverseConv(e, { channels: 4, kernelSize: 2, groups: 1, corners: ['br'] }, rng(10))), shapes: sq, scale: 0.1 },
  { name: 'SplitPrior', make: (e) => asSplit(new SplitPrior(e, { channels: 4, width: 8 }, rng(11))), shapes: sq, scale: 0.3 },
  { name: 'GlowSplit', make: (e) => asSplit(new GlowSplit(e, { channels: 4 })), shapes: sq, scale: 0.3 },
];

export function inputFor(c: LayerCase, shape: readonly number[], n: number): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1) * n;
  const f = c.input ?? ((i: number) => Math.sin(2.3 * i + 0.7) * 0.9);
  // Rounded to float32 so every backend sees the same input.
  return Float64Array.from(Float32Array.from({ length: size }, (_, i) => f(i)));
}

export type { Tensor };
