import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelFileError } from '../../io/safetensors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Module, type StateDict } from '../../nn/module.js';
import { clamp, concat, permute, reshape } from '../../ops/index.js';
import { tfjsConvFilter, tfjsVector, tfjsWeight } from './tfjs-layout.js';

/** face-api's SSD-MobileNetV1 constants (docs/face-detection.md §8), read from its source. */
export const SSD_MOBILENET = {
  /** The network input is always 512 × 512: the prior boxes stored with the weights are for it. */
  inputSize: 512,
  /** Output channels of the stem (conv0) and of the 13 separable blocks. */
  channels: [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024] as const,
  /** Blocks whose depthwise conv has stride 2. */
  strided: [2, 4, 6, 12] as const,
  /** The extra feature layers after the backbone: output channels and kernel (the 3×3 ones have stride 2). */
  extra: [[256, 1], [512, 3], [128, 1], [256, 3], [128, 1], [256, 3], [64, 1], [128, 3]] as const,
  /** Box predictor k: boxes per cell and the channels of the feature map it reads. */
  predictors: [[3, 512], [6, 1024], [6, 512], [6, 256], [6, 256], [6, 128]] as const,
  /** tf.batchNorm's epsilon in face-api (the float32 nearest 0.001). */
  batchNormEpsilon: 0.0010000000474974513,
  /** Box decoding divides the centre offsets by 10 and the log-sizes by 5 (the usual SSD variances). */
  variances: [10, 5] as const,
  /** Classes per box: background, face, and an unused one; the score is σ of the face logit. */
  classes: 3,
  minConfidence: 0.5,
  maxResults: 100,
  iouThreshold: 0.5,
  manifest: 'ssd_mobilenetv1_model-weights_manifest.json',
} as const;

/** Prior boxes: 32²·3 + (16² + 8² + 4² + 2² + 1)·6 for a 512 input. */
export const SSD_PRIORS = 5118;

const zerosInit = { weightInit: 'zeros', biasInit: 'zeros' } as const;
const relu6 = (x: Tensor): Tensor => clamp(x, 0, 6);

/**
 * One MobileNetV1 block: depthwise 3×3 ('same', stride 1 or 2) with its batch norm folded into a
 * bias → ReLU6 → pointwise 1×1 with bias → ReLU6.
 */
class MobileBlock extends Module {
  readonly depthwise: Conv2d;
  readonly pointwise: Conv2d;

  constructor(engine: Engine, inChannels: number, outChannels: number, stride: number) {
    super(engine);
    this.depthwise = this.child('depthwise', new Conv2d(engine, inChannels, inChannels, 3, { groups: inChannels, stride, padding: 'same', ...zerosInit }));
    this.pointwise = this.child('pointwise', new Conv2d(engine, inChannels, outChannels, 1, zerosInit));
  }

  forward(x: Tensor): Tensor {
    return relu6(this.pointwise.forward(relu6(this.depthwise.forward(x))));
  }
}

/** A predictor's [N, A·k, H, W] output as [N, H·W·A, k]: tfjs' NHWC order, cell by cell, box by box. */
function perBox(y: Tensor, k: number): Tensor {
  const [N, , H, W] = y.shape as [number, number, number, number];
  return reshape(permute(y, [0, 2, 3, 1]), [N, (H * W * y.shape[1]!) / k, k]);
}

/** The network's raw outputs for a batch: box encodings and class logits per prior box. */
export interface SsdOutput {
  /** [N, 5118, 4]: (t_y, t_x, t_h, t_w) relative to each prior. */
  boxes: Tensor;
  /** [N, 5118, 3]: logits of background, face, unused. */
  classes: Tensor;
}

/**
 * face-api's SSD-MobileNetV1 face detector (`ssd_mobilenetv1_model`; docs/face-detection.md §8):
 * a MobileNetV1 backbone (conv 3×3 stride 2, 13 depthwise-separable blocks, ReLU6 throughout),
 * eight extra conv layers down to 1 × 1, and six box predictors (1×1 convs) on the 32², 16², 8²,
 * 4², 2² and 1² feature maps. Input [N, 3, 512, 512] in [−1, 1]; outputs the raw box encodings and
 * class logits of the 5118 prior boxes, whose corners (`priors`) come with the weights.
 */
export class SsdMobilenetV1 extends Module {
  readonly conv0: Conv2d;
  readonly blocks: MobileBlock[] = [];
  readonly extra: Conv2d[] = [];
  readonly boxPredictors: Conv2d[] = [];
  readonly classPredictors: Conv2d[] = [];
  /** [5118 × 4] prior boxes (y0, x0, y1, x1) in the square's units, face-api's `Output/extra_dim`. */
  priors: Float32Array = new Float32Array(SSD_PRIORS * 4);

  constructor(engine: Engine) {
    super(engine);
    const c = SSD_MOBILENET.channels;
    this.conv0 = this.child('conv0', new Conv2d(engine, 3, c[0], 3, { stride: 2, padding: 'same', ...zerosInit }));
    for (let i = 1; i <= 13; i++)
      this.blocks.push(this.child(`conv${i}`, new MobileBlock(engine, c[i - 1]!, c[i]!, (SSD_MOBILENET.strided as readonly number[]).includes(i) ? 2 : 1)));
    let ch: number = c[13];
    SSD_MOBILENET.extra.forEach(([co, k], i) => {
      this.extra.push(this.child(`extra${i}`, new Conv2d(engine, ch, co, k, { stride: k === 3 ? 2 : 1, padding: 'same', ...zerosInit })));
      ch = co;
    });
    SSD_MOBILENET.predictors.forEach(([a, ci], k) => {
      this.boxPredictors.push(this.child(`box${k}`, new Conv2d(engine, ci, a * 4, 1, zerosInit)));
      this.classPredictors.push(this.child(`class${k}`, new Conv2d(engine, ci, a * SSD_MOBILENET.classes, 1, zerosInit)));
    });
  }

  forward(x: Tensor): SsdOutput {
    this.assertUsable('SsdMobilenetV1');
    const S = SSD_MOBILENET.inputSize;
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape[2] !== S || x.shape[3] !== S)
      fail('SsdMobilenetV1', `input ${shapeStr(x.shape)} must be [N, 3, ${S}, ${S}]`);
    const [boxes, classes] = this.engine.scope(() => {
      let y = relu6(this.conv0.forward(x));
      let conv11!: Tensor;
      this.blocks.forEach((b, i) => { y = b.forward(y); if (i === 10) conv11 = y; });
      // The predictors read block 11, the backbone's output and every second extra layer.
      const maps = [conv11, y];
      this.extra.forEach((e, i) => { y = relu6(e.forward(y)); if (i % 2 === 1) maps.push(y); });
      const b = concat(maps.map((m, k) => perBox(this.boxPredictors[k]!.forward(m), 4)), 1);
      const c = concat(maps.map((m, k) => perBox(this.classPredictors[k]!.forward(m), SSD_MOBILENET.classes)), 1);
      return [b, c] as const;
    });
    return { boxes, classes };
  }

  /** Fills the weights and priors from face-api's decoded tfjs manifest. */
  loadTfjs(weights: ReadonlyMap<string, TfjsWeight>, source: string = SSD_MOBILENET.manifest): void {
    const { state, priors } = ssdMobilenetStateDict(weights, source);
    this.loadStateDict(state);
    this.priors = priors;
  }
}

/**
 * The state dict and priors of SsdMobilenetV1 from face-api's weights. Each depthwise conv's batch
 * norm is folded: γ·(conv(x; w) − μ)/√(σ² + ε) + β = conv(x; w·s) + (β − μ·s), s = γ/√(σ² + ε).
 * The manifest also holds int32 graph constants and preprocessing scalars of the original
 * TensorFlow graph that face-api ignores; any other unused weight is refused.
 */
export function ssdMobilenetStateDict(weights: ReadonlyMap<string, TfjsWeight>, source: string): { state: StateDict; priors: Float32Array } {
  const state: StateDict = new Map();
  const used = new Set<string>();
  const get = (name: string) => { used.add(name); return tfjsWeight(weights, name, source); };
  const conv = (name: string, into: string, bias: string) => {
    state.set(`${into}.weight`, tfjsConvFilter(get(`${name}/weights`), `${name}/weights`, 'conv', source));
    state.set(`${into}.bias`, tfjsVector(get(`${name}/${bias}`), `${name}/${bias}`, source));
  };
  conv('MobilenetV1/Conv2d_0_pointwise', 'conv0', 'convolution_bn_offset');
  for (let i = 1; i <= 13; i++) {
    const p = `MobilenetV1/Conv2d_${i}_depthwise`;
    const w = tfjsConvFilter(get(`${p}/depthwise_weights`), `${p}/depthwise_weights`, 'depthwise', source);
    const [gamma, beta, mu, v] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => tfjsVector(get(`${p}/BatchNorm/${n}`), `${p}/BatchNorm/${n}`, source).data) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const C = w.shape[0]!, per = w.data.length / C;
    if ([gamma, beta, mu, v].some((a) => a.length !== C)) throw new ModelFileError(`${source}: ${p} has ${C} filters but batch-norm vectors of another size`);
    const b = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const s = gamma[c]! / Math.sqrt(v[c]! + SSD_MOBILENET.batchNormEpsilon);
      for (let k = 0; k < per; k++) w.data[c * per + k]! *= s;
      b[c] = beta[c]! - mu[c]! * s;
    }
    state.set(`conv${i}.depthwise.weight`, w);
    state.set(`conv${i}.depthwise.bias`, { shape: [C], data: b });
    conv(`MobilenetV1/Conv2d_${i}_pointwise`, `conv${i}.pointwise`, 'convolution_bn_offset');
  }
  for (let i = 0; i < SSD_MOBILENET.extra.length; i++) conv(`Prediction/Conv2d_${i}_pointwise`, `extra${i}`, 'convolution_bn_offset');
  for (let k = 0; k < SSD_MOBILENET.predictors.length; k++) {
    conv(`Prediction/BoxPredictor_${k}/BoxEncodingPredictor`, `box${k}`, 'biases');
    conv(`Prediction/BoxPredictor_${k}/ClassPredictor`, `class${k}`, 'biases');
  }
  const prior = get('Output/extra_dim');
  if (prior.shape.length !== 3 || prior.shape[0] !== 1 || prior.shape[1] !== SSD_PRIORS || prior.shape[2] !== 4)
    throw new ModelFileError(`${source}: 'Output/extra_dim' has shape ${shapeStr(prior.shape)}, not [1, ${SSD_PRIORS}, 4] (the prior boxes)`);
  const extra = [...weights.entries()].filter(([k, w]) => !used.has(k) && w.dtype !== 'int32' && !k.startsWith('Preprocessor/')).map(([k]) => k);
  if (extra.length) throw new ModelFileError(`${source}: holds weights this model does not use: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (another model's manifest?)`);
  return { state, priors: Float32Array.from(prior.data) };
}
