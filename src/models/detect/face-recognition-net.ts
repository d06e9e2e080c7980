import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { ModelFileError } from '../../io/safetensors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Module, type StateDict } from '../../nn/module.js';
import type { Param } from '../../nn/param.js';
import { add, avgPool2d, concat, matmul, maxPool2d, mean, pad, relu } from '../../ops/index.js';
import { tfjsConvFilter, tfjsVector, tfjsWeight } from './tfjs-layout.js';

/** face-api's descriptor network constants (docs/face-detection.md §7), read from its source. */
export const FACE_RECOGNITION = {
  inputSize: 150,
  meanRgb: [122.782, 117.001, 104.298] as const,
  descriptorSize: 128,
  manifest: 'face_recognition_model-weights_manifest.json',
  /** Residual blocks in order: name, input channels, output channels, whether it halves the size. */
  blocks: [
    ['conv32_1', 32, 32, false], ['conv32_2', 32, 32, false], ['conv32_3', 32, 32, false],
    ['conv64_down', 32, 64, true], ['conv64_1', 64, 64, false], ['conv64_2', 64, 64, false], ['conv64_3', 64, 64, false],
    ['conv128_down', 64, 128, true], ['conv128_1', 128, 128, false], ['conv128_2', 128, 128, false],
    ['conv256_down', 128, 256, true], ['conv256_1', 256, 256, false], ['conv256_2', 256, 256, false], ['conv256_down_out', 256, 256, true],
  ] as const,
} as const;

const zerosInit = { weightInit: 'zeros', biasInit: 'zeros' } as const;

/**
 * A residual block of the descriptor network: conv 3×3 → ReLU → conv 3×3, plus the input, → ReLU.
 * A down block's first conv has stride 2 and no padding, and its shortcut is a 2×2 average pool,
 * zero-padded to the block's channels; when the two disagree in size by one, the conv branch gets
 * a zero row and column at the bottom/right (docs/face-detection.md §7).
 */
class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;

  constructor(engine: Engine, readonly inChannels: number, readonly outChannels: number, readonly down: boolean) {
    super(engine);
    this.conv1 = this.child('conv1', new Conv2d(engine, inChannels, outChannels, 3, down ? { stride: 2, padding: 'valid', ...zerosInit } : { padding: 1, ...zerosInit }));
    this.conv2 = this.child('conv2', new Conv2d(engine, outChannels, outChannels, 3, { padding: 1, ...zerosInit }));
  }

  forward(x: Tensor): Tensor {
    let out = this.conv2.forward(relu(this.conv1.forward(x)));
    if (!this.down) return relu(add(out, x));
    let shortcut = avgPool2d(x, 2, { stride: 2 });
    const [, , H, W] = shortcut.shape as [number, number, number, number];
    const [, , h, w] = out.shape as [number, number, number, number];
    if (h !== H || w !== W) out = pad(out, [0, W - w, 0, H - h]);
    if (this.outChannels !== this.inChannels) shortcut = concat([shortcut, this.engine.zeros([shortcut.shape[0]!, this.outChannels - this.inChannels, H, W])], 1);
    return relu(add(out, shortcut));
  }
}

/**
 * face-api's face descriptor network (`face_recognition_model`, dlib's ResNet-34-like face
 * recogniser ported to tfjs; docs/face-detection.md §7): conv 7×7 stride 2 → max-pool 3×3 stride 2
 * → 14 residual blocks (32, 64, 128, 256 channels) → global average → 256 × 128 linear map. Input
 * [N, 3, 150, 150] from letterbox(…, centre = true); output [N, 128]. Each conv's per-channel
 * "scale" layer (v · s + t after the bias) is folded into the conv at load time.
 */
export class FaceRecognitionNet extends Module {
  readonly stem: Conv2d;
  readonly blocks: ResidualBlock[] = [];
  readonly fc: Param;

  constructor(engine: Engine) {
    super(engine);
    this.stem = this.child('conv32_down', new Conv2d(engine, 3, 32, 7, { stride: 2, padding: 'valid', ...zerosInit }));
    for (const [name, ci, co, down] of FACE_RECOGNITION.blocks) this.blocks.push(this.child(name, new ResidualBlock(engine, ci, co, down)));
    this.fc = this.param('fc', engine.zeros([256, FACE_RECOGNITION.descriptorSize]));
  }

  forward(x: Tensor): Tensor {
    this.assertUsable('FaceRecognitionNet');
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape[2] !== FACE_RECOGNITION.inputSize || x.shape[3] !== FACE_RECOGNITION.inputSize)
      fail('FaceRecognitionNet', `input ${shapeStr(x.shape)} must be [N, 3, 150, 150]`);
    return this.engine.scope(() => {
      let y = maxPool2d(relu(this.stem.forward(x)), 3, { stride: 2 });
      for (const b of this.blocks) y = b.forward(y);
      return matmul(mean(y, [2, 3]), this.fc.value);
    });
  }

  /** Fills the weights from face-api's decoded tfjs manifest, folding each scale layer into its conv. */
  loadTfjs(weights: ReadonlyMap<string, TfjsWeight>, source: string = FACE_RECOGNITION.manifest): void {
    this.loadStateDict(faceRecognitionStateDict(weights, source));
  }
}

/** The state dict of FaceRecognitionNet from face-api's weights; an extra weight in the manifest is refused. */
export function faceRecognitionStateDict(weights: ReadonlyMap<string, TfjsWeight>, source: string): StateDict {
  const state: StateDict = new Map();
  const used = new Set<string>();
  const get = (name: string) => { used.add(name); return tfjsWeight(weights, name, source); };
  // (conv(x) + b) · s + t = conv(x; w · s) + (b · s + t), per output channel.
  const convScale = (prefix: string, into: string) => {
    const w = tfjsConvFilter(get(`${prefix}/conv/filters`), `${prefix}/conv/filters`, 'conv', source);
    const b = tfjsVector(get(`${prefix}/conv/bias`), `${prefix}/conv/bias`, source);
    const s = tfjsVector(get(`${prefix}/scale/weights`), `${prefix}/scale/weights`, source).data;
    const t = tfjsVector(get(`${prefix}/scale/biases`), `${prefix}/scale/biases`, source).data;
    const co = w.shape[0]!, per = w.data.length / co;
    if (b.data.length !== co || s.length !== co || t.length !== co)
      throw new ModelFileError(`${source}: ${prefix} has ${co} filters but bias/scale sizes ${b.data.length}/${s.length}/${t.length}`);
    for (let o = 0; o < co; o++) {
      for (let k = 0; k < per; k++) w.data[o * per + k]! *= s[o]!;
      b.data[o] = b.data[o]! * s[o]! + t[o]!;
    }
    state.set(`${into}.weight`, w);
    state.set(`${into}.bias`, b);
  };
  convScale('conv32_down', 'conv32_down');
  for (const [name] of FACE_RECOGNITION.blocks) {
    convScale(`${name}/conv1`, `${name}.conv1`);
    convScale(`${name}/conv2`, `${name}.conv2`);
  }
  const fc = get('fc');
  state.set('fc', { shape: [...fc.shape], data: Float32Array.from(fc.data) });
  const extra = [...weights.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new ModelFileError(`${source}: holds weights this model does not use: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} (another model's manifest?)`);
  return state;
}
