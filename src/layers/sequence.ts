import type { Engine } from '../engine/engine.js';
import { add } from '../engine/ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { FlowLayer, type EncodeResult, type LayerConfig } from './layer.js';

export interface SequenceConfig { kind: 'sequence'; layers: Array<{ name: string; layer: LayerConfig }> }

/** Layers applied in order on encode, in reverse on decode; log-dets add. One flow step is a sequence. */
export class FlowSequence extends FlowLayer {
  readonly layers: FlowLayer[];
  private readonly names: string[];

  constructor(engine: Engine, named: Array<[string, FlowLayer]>) {
    super(engine);
    this.names = named.map(([n]) => n);
    this.layers = named.map(([n, l]) => this.child(n, l));
  }

  get config(): SequenceConfig {
    return { kind: 'sequence', layers: this.layers.map((l, i) => ({ name: this.names[i]!, layer: l.config })) };
  }

  encode(x: Tensor): EncodeResult {
    let y = x;
    let logdet: Tensor | null = null;
    for (const l of this.layers) {
      const r = l.encode(y);
      y = r.y;
      logdet = logdet ? add(logdet, r.logdet) : r.logdet;
    }
    return { y, logdet: logdet ?? this.engine.zeros([x.shape[0]!]) };
  }

  decode(y: Tensor): Tensor {
    let x = y;
    for (let i = this.layers.length - 1; i >= 0; i--) x = this.layers[i]!.decode(x);
    return x;
  }
}
