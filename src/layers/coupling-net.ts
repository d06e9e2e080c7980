import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import { add, affine, conv2d, exp, matmul, mul, relu, reshape } from '../engine/ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';
import type { Param } from './param.js';
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
 * (spec §b.6/§b.8, Glow's Conv2dZero): each coupling starts as the identity. A class-conditional
 * net adds onehot(y)·W_y to the first pre-activations (the same as one-hot input planes, without
 * the planes); W_y starts at zero, so adding classes to a trained flow leaves it unchanged.
 */
export class CouplingNet extends Module {
  /** One-hot labels [N, classes] for the next calls, set by the model around a conditional pass. */
  condition: Tensor | null = null;
  private readonly classWeight: Param | null;
  private readonly w1: Param; private readonly b1: Param;
  private readonly w2: Param; private readonly b2: Param;
  private readonly w3: Param; private readonly b3: Param; private readonly logs: Param;

  constructor(engine: Engine, readonly config: CouplingNetConfig, rng = new Rng(0)) {
    super(engine);
    const { inChannels: ci, outChannels: co, width: w } = config;
    const uniform = (n: number, fanIn: number) => rng.uniforms(n, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    this.w1 = this.param('conv1.weight', engine.tensor(uniform(w * ci * 9, ci * 9), [w, ci, 3, 3]));
    this.b1 = this.param('conv1.bias', engine.tensor(uniform(w, ci * 9), [w]));
    this.w2 = this.param('conv2.weight', engine.tensor(uniform(w * w, w), [w, w, 1, 1]));
    this.b2 = this.param('conv2.bias', engine.tensor(uniform(w, w), [w]));
    this.w3 = this.param('out.weight', engine.zeros([co, w, 3, 3]));
    this.b3 = this.param('out.bias', engine.zeros([co]));
    this.logs = this.param('out.logs', engine.zeros([1, co, 1, 1]));
    this.classWeight = config.classes ? this.param('class.weight', engine.zeros([config.classes, w])) : null;
  }

  forward(x: Tensor): Tensor {
    let pre = conv2d(x, this.w1.value, { bias: this.b1.value, pad: 'same' });
    if (this.classWeight) {
      const N = x.shape[0]!;
      if (!this.condition || this.condition.shape[0] !== N)
        fail('CouplingNet', `a class-conditional network needs labels for its ${N} images (got ${this.condition ? shapeStr(this.condition.shape) : 'none'}); pass labels to the model`);
      pre = add(pre, reshape(matmul(this.condition, this.classWeight.value), [N, this.config.width, 1, 1]));
    }
    const h1 = relu(pre);
    const h2 = relu(conv2d(h1, this.w2.value, { bias: this.b2.value }));
    const out = conv2d(h2, this.w3.value, { bias: this.b3.value, pad: 'same' });
    return mul(out, exp(affine(this.logs.value, 3, 0)));
  }
}

