import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelFileError } from '../../io/safetensors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Module, type StateDict } from '../../nn/module.js';
import { leakyRelu, maxPool2d, resolvePadding } from '../../ops/index.js';
import { SeparableConv3x3 } from './separable-conv.js';
import { tfjsConvFilter, tfjsVector, tfjsWeight } from './tfjs-layout.js';

/** face-api's TinyFaceDetector constants (docs/face-detection.md §3), read from its source. */
export const TINY_FACE = {
  /** Anchor (width, height) per box slot, in grid cells. */
  anchors: [[1.603231, 2.094468], [6.041143, 7.080126], [2.882459, 3.518061], [4.266906, 5.178857], [9.041765, 10.66308]] as const,
  meanRgb: [117.001, 114.697, 97.404] as const,
  iouThreshold: 0.4,
  /** face-api multiplies by the float32 nearest to 0.1. */
  leakySlope: Math.fround(0.1),
  channels: [3, 16, 32, 64, 128, 256, 512] as const,
  /** The file names of face-api's weights: manifest and shard. */
  manifest: 'tiny_face_detector_model-weights_manifest.json',
  /** Values per box slot: x, y, w, h, objectness. */
  boxValues: 5,
} as const;

/**
 * TensorFlow's 'same' pooling pads (ceil(H/s) − 1)·s + k − H in total, the odd pixel at the end;
 * padding never wins a max, so this is exactly tf.maxPool(x, k, s, 'same').
 */
function maxPoolSame(x: Tensor, stride: number): Tensor {
  const [, , H, W] = x.shape as [number, number, number, number];
  const p = resolvePadding('maxPoolSame', 'same', 2, 2, { H, W, stride: [stride, stride] });
  return maxPool2d(x, 2, { stride, pad: [p.left, p.right, p.top, p.bottom] });
}

/**
 * face-api's TinyFaceDetector (a TinyYolov2 with separable convolutions; docs/face-detection.md §2):
 * conv 3×3 'valid' 3→16, then five depthwise-separable blocks 16→32→…→512, each followed by a
 * LeakyReLU(0.1) and a 2×2 max-pool (stride 2, the last stride 1), then a 1×1 conv to 5 anchors ×
 * (x, y, w, h, objectness). Input [N, 3, S, S] normalised as letterbox() makes it, S a multiple of
 * 32; output [N, 25, S/32, S/32] raw (before sigmoid and exp). 193 321 parameters.
 */
export class TinyFaceDetector extends Module {
  readonly conv0: Conv2d;
  readonly blocks: SeparableConv3x3[] = [];
  readonly conv8: Conv2d;

  constructor(engine: Engine) {
    super(engine);
    const c = TINY_FACE.channels;
    this.conv0 = this.child('conv0', new Conv2d(engine, 3, c[1], 3, { padding: 'valid', weightInit: 'zeros', biasInit: 'zeros' }));
    for (let i = 1; i <= 5; i++) this.blocks.push(this.child(`conv${i}`, new SeparableConv3x3(engine, c[i]!, c[i + 1]!)));
    this.conv8 = this.child('conv8', new Conv2d(engine, c[6], TINY_FACE.anchors.length * TINY_FACE.boxValues, 1, { weightInit: 'zeros', biasInit: 'zeros' }));
  }

  forward(x: Tensor): Tensor {
    this.assertUsable('TinyFaceDetector');
    const [, C, H, W] = x.shape;
    if (x.shape.length !== 4 || C !== 3 || H !== W || H! % 32 !== 0 || H! < 32)
      fail('TinyFaceDetector', `input ${shapeStr(x.shape)} must be [N, 3, S, S] with S a positive multiple of 32`);
    const slope = TINY_FACE.leakySlope;
    return this.engine.scope(() => {
      let y = maxPoolSame(leakyRelu(this.conv0.forward(x), slope), 2);
      this.blocks.forEach((b, i) => { y = maxPoolSame(leakyRelu(b.forward(y), slope), i < 4 ? 2 : 1); });
      return this.conv8.forward(y);
    });
  }

  /** Fills the weights from face-api's decoded tfjs manifest (names conv0/filters, conv1/depthwise_filter, …). */
  loadTfjs(weights: ReadonlyMap<string, TfjsWeight>, source: string = TINY_FACE.manifest): void {
    this.loadStateDict(tinyFaceStateDict(weights, source));
  }
}

/** The state dict of TinyFaceDetector from face-api's weights; an extra weight in the manifest is refused. */
export function tinyFaceStateDict(weights: ReadonlyMap<string, TfjsWeight>, source: string): StateDict {
  const state: StateDict = new Map();
  const used = new Set<string>();
  const get = (name: string) => { used.add(name); return tfjsWeight(weights, name, source); };
  state.set('conv0.weight', tfjsConvFilter(get('conv0/filters'), 'conv0/filters', 'conv', source));
  state.set('conv0.bias', tfjsVector(get('conv0/bias'), 'conv0/bias', source));
  for (let i = 1; i <= 5; i++) {
    state.set(`conv${i}.depthwise.weight`, tfjsConvFilter(get(`conv${i}/depthwise_filter`), `conv${i}/depthwise_filter`, 'depthwise', source));
    state.set(`conv${i}.pointwise.weight`, tfjsConvFilter(get(`conv${i}/pointwise_filter`), `conv${i}/pointwise_filter`, 'conv', source));
    state.set(`conv${i}.pointwise.bias`, tfjsVector(get(`conv${i}/bias`), `conv${i}/bias`, source));
  }
  state.set('conv8.weight', tfjsConvFilter(get('conv8/filters'), 'conv8/filters', 'conv', source));
  state.set('conv8.bias', tfjsVector(get('conv8/bias'), 'conv8/bias', source));
  const extra = [...weights.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new ModelFileError(`${source}: holds weights this model does not use: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (another model's manifest?)`);
  return state;
}
