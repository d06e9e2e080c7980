import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import { add, affine, exp, mul, relu, reshape } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { Conv2d } from '../nn/conv2d.js';
import { Embedding } from '../nn/embedding.js';
import { Module } from '../nn/module.js';
import type { Param } from '../nn/param.js';
import { Rng } from '../data/rng.js';

export interface CouplingNetConfig {
  inChannels: number; outChannels: number; width: number;
  /** Class-conditional: a learned per-class offset of the first layer's pre-activations. */
  classes?: number;
}

/** Parameters of the coupling network, counted without building it. */
export const couplingNetParams = ({ inChannels: i, outChannels: o, width: w, classes = 0 }: CouplingNetConfig): number =>
  i * w * 9 + w + w * w + w + w * o * 9 + 2 * o + classes * w;

/**
 * conv3×3 → ReLU → conv1×1 → ReLU → zero-initialised conv3×3 whose output is scaled by exp(3·logs)
 * (docs/flows.md §10, Glow's Conv2dZero): the net starts at zero output, so the finc and additive
 * couplings start as the identity (the glow form as a fixed scaling by σ(2)). A class-conditional
 * net adds onehot(y)·W_y to the first pre-activations (the same as one-hot input planes, without
 * the planes); W_y starts at zero, so adding classes to a trained flow leaves it unchanged.
 */
export class CouplingNet extends Module {
  /** One-hot labels [N, classes] for the next calls, set by the model around a conditional pass. */
  condition: Tensor | null = null;
  // Children in this order keep the state-dict names (and their order) of the bundled models:
  // conv1.weight, conv1.bias, conv2.*, out.weight, out.bias, out.logs, class.weight.
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly out: ZeroConv2d;
  readonly classEmbedding: Embedding | null;

  constructor(engine: Engine, readonly config: CouplingNetConfig, rng = new Rng(0)) {
    super(engine);
    const { inChannels: ci, outChannels: co, width: w } = config;
    // U(±1/√fanIn) weights then biases, drawn in this order from rng (Conv2d's default init).
    this.conv1 = this.child('conv1', new Conv2d(engine, ci, w, 3, { padding: 'same', rng }));
    this.conv2 = this.child('conv2', new Conv2d(engine, w, w, 1, { rng }));
    this.out = this.child('out', new ZeroConv2d(engine, w, co));
    this.classEmbedding = config.classes ? this.child('class', new Embedding(engine, config.classes, w, { init: 'zeros' })) : null;
  }

  forward(x: Tensor): Tensor {
    let pre = this.conv1.forward(x);
    if (this.classEmbedding) {
      const N = x.shape[0]!;
      if (!this.condition || this.condition.shape[0] !== N)
        fail('CouplingNet', `a class-conditional network needs labels for its ${N} images (got ${this.condition ? shapeStr(this.condition.shape) : 'none'}); pass labels to the model`);
      pre = add(pre, reshape(this.classEmbedding.fromOneHot(this.condition), [N, this.config.width, 1, 1]));
    }
    const h1 = relu(pre);
    const h2 = relu(this.conv2.forward(h1));
    return this.out.forward(h2);
  }
}

/** Glow's Conv2dZero: a zero-initialised 3×3 convolution whose output is scaled by exp(3·logs) per channel. */
class ZeroConv2d extends Conv2d {
  readonly logs: Param;

  constructor(engine: Engine, inChannels: number, outChannels: number) {
    super(engine, inChannels, outChannels, 3, { padding: 'same', weightInit: 'zeros', biasInit: 'zeros' });
    this.logs = this.param('logs', engine.zeros([1, outChannels, 1, 1]));
  }

  override forward(x: Tensor): Tensor {
    return mul(super.forward(x), exp(affine(this.logs.value, 3, 0)));
  }
}
