import type { Engine } from '../../engine/engine.js';
import type { Tensor } from '../../engine/tensor.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';

/**
 * Depthwise-separable 3×3 convolution as MobileNet and face-api's TinyYolov2 use it: a depthwise
 * 3×3 (groups = channels, zero padding 1, no bias) then a pointwise 1×1 with a bias. Parameters
 * `depthwise.weight` [C, 1, 3, 3], `pointwise.weight` [Co, C, 1, 1], `pointwise.bias` [Co].
 */
export class SeparableConv3x3 extends Module {
  readonly depthwise: Conv2d;
  readonly pointwise: Conv2d;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number) {
    super(engine);
    // Zeros: the weights always come from a file, so random initial values would be wasted work.
    this.depthwise = this.child('depthwise', new Conv2d(engine, inChannels, inChannels, 3,
      { groups: inChannels, padding: 1, bias: false, weightInit: 'zeros' }));
    this.pointwise = this.child('pointwise', new Conv2d(engine, inChannels, outChannels, 1, { weightInit: 'zeros', biasInit: 'zeros' }));
  }

  forward(x: Tensor): Tensor {
    return this.pointwise.forward(this.depthwise.forward(x));
  }
}
