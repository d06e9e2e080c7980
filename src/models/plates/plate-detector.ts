import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { checkSeed, Rng } from '../../data/rng.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Module, type StateDict } from '../../nn/module.js';
import { leakyRelu, maxPool2d } from '../../ops/index.js';
import { SeparableConv3x3 } from '../detect/separable-conv.js';
import { BOX_VALUES, checkPlateDetectorConfig, plateDetectorParamShapes, type PlateDetectorConfig } from './config.js';

/** LeakyReLU slope, as TinyFaceDetector's (docs/face-detection.md §2). */
const SLOPE = 0.1;

/** Objectness starts at σ(−4) ≈ 0.018: nearly every slot is empty, so the first steps are not spent learning that. */
export const OBJECTNESS_PRIOR_BIAS = -4;

/**
 * A single-class YOLO detector for licence plates (docs/plates.md §4): TinyFaceDetector's layout —
 * conv 3×3 (here padded, 'same') then depthwise-separable 3×3 blocks (src/models/detect/separable-conv.ts),
 * each followed by LeakyReLU(0.1), the first log₂(stride) of them by a 2×2 max-pool — and a 1×1
 * head to anchors × (t_x, t_y, t_w, t_h, t_o). Input [N, 3, S, S] in [−1, 1]; output
 * [N, A·5, S/stride, S/stride], decoded by decodeYoloGrid (src/models/detect/yolo-decode.ts).
 */
export class PlateDetector extends Module {
  readonly config: PlateDetectorConfig;
  private readonly layers: Module[] = [];
  private readonly head: Conv2d;

  /** A new detector with He-normal weights drawn from `seed` (zero biases, objectness bias OBJECTNESS_PRIOR_BIAS). */
  constructor(engine: Engine, config: PlateDetectorConfig, seed = 0) {
    super(engine);
    const checked = checkPlateDetectorConfig(config);
    if (!checked.ok) fail('PlateDetector', checked.problem);
    this.config = structuredClone(checked.value);
    const w = this.config.widths;
    const zeros = { weightInit: 'zeros', biasInit: 'zeros' } as const;
    this.layers.push(this.child('conv0', new Conv2d(engine, 3, w[0]!, 3, { padding: 1, ...zeros })));
    for (let i = 1; i < w.length; i++) this.layers.push(this.child(`conv${i}`, new SeparableConv3x3(engine, w[i - 1]!, w[i]!)));
    this.head = this.child('head', new Conv2d(engine, w.at(-1)!, this.config.anchors.length * BOX_VALUES, 1, zeros));
    this.loadStateDict(initialState(this.config, checkSeed('PlateDetector', seed)));
  }

  get gridSize(): number { return this.config.inputSize / this.config.stride; }

  forward(x: Tensor): Tensor {
    this.assertUsable('PlateDetector');
    const S = this.config.inputSize;
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape[2] !== S || x.shape[3] !== S)
      fail('PlateDetector', `input ${shapeStr(x.shape)} must be [N, 3, ${S}, ${S}]`);
    const pools = Math.log2(this.config.stride);
    return this.engine.scope(() => {
      let y = x;
      this.layers.forEach((layer, i) => {
        y = leakyRelu((layer as Conv2d | SeparableConv3x3).forward(y), SLOPE);
        if (i < pools) y = maxPool2d(y, 2, { stride: 2 });
      });
      return this.head.forward(y);
    });
  }
}

/**
 * Seeded initial weights by name: He-normal N(0, 2/fanIn) for every weight (a depthwise filter's
 * fan-in is its 9 taps), the head's N(0, 0.01²) so the first outputs sit near their biases, zero
 * biases except objectness.
 */
function initialState(c: PlateDetectorConfig, seed: number): StateDict {
  const rng = new Rng(seed), out: StateDict = new Map();
  for (const [name, shape] of plateDetectorParamShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name === 'head.bias') {
      data = new Float32Array(n);
      for (let a = 0; a < c.anchors.length; a++) data[a * BOX_VALUES + 4] = OBJECTNESS_PRIOR_BIAS;
    } else if (name.endsWith('bias')) data = new Float32Array(n);
    else data = rng.normals(n, name === 'head.weight' ? 0.01 : Math.sqrt(2 / (shape[1]! * shape[2]! * shape[3]!)));
    out.set(name, { shape, data });
  }
  return out;
}
