import { squeeze, unsqueeze } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { Engine } from '../engine/engine.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { zeroLogdet } from './util.js';

export interface SqueezeConfig { kind: 'squeeze' }

/** Space-to-depth by 2 (channel 4c + 2dy + dx, docs/flows.md §12); a permutation, so log-det 0. */
export class Squeeze extends FlowLayer {
  readonly config: SqueezeConfig = { kind: 'squeeze' };
  constructor(engine: Engine) { super(engine); }
  encode(x: Tensor): EncodeResult { return { y: squeeze(x), logdet: zeroLogdet(x) }; }
  decode(y: Tensor): Tensor { return unsqueeze(y); }
}
