import type { Engine } from '../engine/engine.js';
import { add } from '../ops/index.js';
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

  /**
   * Each layer runs in its own scope and the previous step's tensors are freed as soon as the next
   * exists, so a deep flow holds one step's activations at a time when not training (sampling a
   * 10M-parameter model at batch 100 would otherwise keep every step's tensors to the end).
   * While training, the gradient tape keeps what backward needs by itself.
   */
  encode(x: Tensor): EncodeResult {
    let y = x;
    let logdet: Tensor | null = null;
    for (const l of this.layers) {
      const prevY: Tensor = y, prevLogdet: Tensor | null = logdet;
      const next: EncodeResult = this.engine.scope((): EncodeResult => {
        const r = l.encode(prevY);
        return { y: r.y, logdet: prevLogdet ? add(prevLogdet, r.logdet) : r.logdet };
      });
      if (prevY !== x && prevY !== next.y) prevY.dispose();
      if (prevLogdet && prevLogdet !== next.logdet) prevLogdet.dispose();
      y = next.y;
      logdet = next.logdet;
    }
    return { y, logdet: logdet ?? this.engine.zeros([x.shape[0]!]) };
  }

  decode(y: Tensor): Tensor {
    let x = y;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const prev = x;
      x = this.engine.scope(() => this.layers[i]!.decode(prev));
      if (prev !== y && prev !== x) prev.dispose();
    }
    return x;
  }
}
