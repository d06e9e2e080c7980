import type { Engine } from '../engine/engine.js';
import { add } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { CIncConv, cincConvParams } from './cinc-conv.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { Rng } from '../data/rng.js';
import { requireInt } from './util.js';

export interface EmergingConvConfig { kind: 'emerging-conv'; channels: number; kernelSize: number }

/** Each pass is an m×m corner convolution, m = ⌊k/2⌋ + 1, so the pair sees a k×k (odd k) window. */
const passSize = (k: number) => Math.floor(k / 2) + 1;

export const emergingConvParams = ({ channels: C, kernelSize: k }: Omit<EmergingConvConfig, 'kind'>): number =>
  2 * cincConvParams({ channels: C, kernelSize: passSize(k) });

/**
 * Emerging-style baseline (docs/flows.md §7): two chained autoregressive convolutions with complementary
 * causal supports (top-left, then bottom-right), learnable diagonals, log-det the sum of both.
 * Decode is two sequential raster substitutions, the inverse Emerging and CInC are timed against;
 * set `algorithm` to 'wavefront' to compare schedules on identical math.
 */
export class EmergingConv extends FlowLayer {
  readonly config: EmergingConvConfig;
  readonly first: CIncConv;
  readonly second: CIncConv;

  constructor(engine: Engine, config: { channels: number; kernelSize: number }, rng = new Rng(0), initScale?: number) {
    super(engine);
    const C = requireInt('EmergingConv', 'channels', config.channels);
    const k = requireInt('EmergingConv', 'kernelSize', config.kernelSize);
    this.config = { kind: 'emerging-conv', channels: C, kernelSize: k };
    const m = passSize(k);
    this.first = this.child('tl', new CIncConv(engine, { channels: C, kernelSize: m, corner: 'tl' }, rng, initScale));
    this.second = this.child('br', new CIncConv(engine, { channels: C, kernelSize: m, corner: 'br' }, rng, initScale));
    this.algorithm = 'raster';
  }

  get algorithm(): 'wavefront' | 'raster' { return this.first.algorithm; }
  set algorithm(a: 'wavefront' | 'raster') { this.first.algorithm = a; this.second.algorithm = a; }

  encode(x: Tensor): EncodeResult {
    const a = this.first.encode(x);
    const b = this.second.encode(a.y);
    return { y: b.y, logdet: add(a.logdet, b.logdet) };
  }

  decode(y: Tensor): Tensor { return this.first.decode(this.second.decode(y)); }
}
