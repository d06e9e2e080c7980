// The FInC flow written the way a tfjs user would (NHWC, tf.pad + tf.conv2d, tf.variableGrads + Adam),
// layer for layer the architecture of inflow's models.fincFlow, with weights ported by name.
import { createRequire } from 'node:module';
import { solveKernelMask } from '../../src/ops/index.js';
import { inverse, slogdet, transpose } from '../../src/layers/linalg.js';
import { nchwToNhwc, oihwToHwio, tf } from '../tfjs.js';

// tfjs-core's Node bundle registers no gradients (the @tensorflow/tfjs bundle does it for its users);
// its ESM file uses directory imports that only a require() (through tsx) resolves. The registry is global.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');

export interface FlowShape { inputShape: [number, number, number]; levels: number; steps: number; width: number; kernelSize: number; alpha: number }

type Corner = 'tl' | 'tr' | 'bl' | 'br';
const CORNERS: Corner[] = ['tl', 'tr', 'bl', 'br'];
const LN2PI = Math.log(2 * Math.PI);

/** Weights as inflow names and lays them out: NCHW/OIHW Float32Arrays with their shapes. */
export type HostWeights = Map<string, { data: Float32Array; shape: number[] }>;

class Vars {
  readonly list: tf.Variable[] = [];
  constructor(private readonly w: HostWeights) {}
  /** A variable from inflow's tensor, OIHW kernels turned HWIO and per-channel [1,C,1,1] vectors flattened. */
  get(name: string, kind: 'kernel' | 'vector' | 'matrix'): tf.Variable {
    const h = this.w.get(name);
    if (!h) throw new Error(`tfjs flow: no weight '${name}'`);
    const t = kind === 'kernel' ? tf.tensor4d(oihwToHwio(h.data, h.shape), [h.shape[2]!, h.shape[3]!, h.shape[1]!, h.shape[0]!])
      : kind === 'vector' ? tf.tensor1d(h.data) : tf.tensor2d(h.data, [h.shape[0]!, h.shape[1]!]);
    // Unnamed: tfjs names must be unique per process, and several ports may live side by side.
    const v = tf.variable(t, true);
    t.dispose();
    this.list.push(v);
    return v;
  }
}

const cornerPad = (c: Corner, k: number): Array<[number, number]> => {
  const top = c === 'tl' || c === 'tr' ? k - 1 : 0, left = c === 'tl' || c === 'bl' ? k - 1 : 0;
  return [[0, 0], [top, k - 1 - top], [left, k - 1 - left], [0, 0]];
};
const cornerFlip = (c: Corner): number[] => [...(c === 'bl' || c === 'br' ? [0] : []), ...(c === 'tr' || c === 'br' ? [1] : [])];

class FincUnit {
  private readonly v: tf.Variable;
  private readonly mask: tf.Tensor4D;
  private readonly unit: tf.Tensor4D;
  constructor(vars: Vars, name: string, private readonly C: number, private readonly k: number) {
    const Cg = C / 4;
    this.v = vars.get(`${name}.weight`, 'kernel');
    const shape: [number, number, number, number] = [k, k, Cg, C];
    this.mask = tf.tensor4d(oihwToHwio(solveKernelMask(C, Cg, k, true), [C, Cg, k, k]), shape);
    const e = new Float32Array(C * Cg * k * k);
    for (let c = 0; c < C; c++) e[((c * Cg + (c % Cg)) * k + k - 1) * k + k - 1] = 1;
    this.unit = tf.tensor4d(oihwToHwio(e, [C, Cg, k, k]), shape);
  }
  /** The four corner convolutions of K = V⊙M + E; `minusIdentity` drops E (the fixed-point step of the inverse). */
  private conv(x: tf.Tensor4D, minusIdentity: boolean): tf.Tensor4D {
    const Cg = this.C / 4;
    const K = minusIdentity ? tf.mul(this.v, this.mask) : tf.add(tf.mul(this.v, this.mask), this.unit);
    const parts = CORNERS.map((c, g) => {
      const kg = tf.slice(K, [0, 0, 0, g * Cg], [-1, -1, -1, Cg]) as tf.Tensor4D;
      const flip = cornerFlip(c);
      const xg = tf.slice(x, [0, 0, 0, g * Cg], [-1, -1, -1, Cg]);
      return tf.conv2d(tf.pad(xg, cornerPad(c, this.k)) as tf.Tensor4D, flip.length ? tf.reverse(kg, flip) : kg, 1, 'valid');
    });
    return tf.concat(parts, 3) as tf.Tensor4D;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D { return this.conv(x, false); }
  /**
   * What a tfjs user writes without a triangular-solve kernel: x ← y − (K − I)∗x, one full corner conv per
   * wavefront step. (K − I) is nilpotent along anti-diagonals × the in-pixel channel order, so
   * (H + W − 1)·Cg steps make x exact.
   */
  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const [, H, W] = y.shape;
    let x = y;
    for (let s = 0; s < (H + W - 1) * (this.C / 4); s++) {
      const next = tf.tidy(() => tf.sub(y, this.conv(x, true)) as tf.Tensor4D);
      if (x !== y) x.dispose();
      x = next;
    }
    return x;
  }
}

class ActNorm {
  private readonly b: tf.Variable; private readonly logs: tf.Variable;
  constructor(vars: Vars, name: string) { this.b = vars.get(`${name}.bias`, 'vector'); this.logs = vars.get(`${name}.logs`, 'vector'); }
  forward(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor] {
    const [, H, W] = x.shape;
    return [tf.mul(tf.sub(x, this.b), tf.exp(tf.neg(this.logs))), tf.mul(tf.sum(this.logs), -H * W)];
  }
  inverse(y: tf.Tensor4D): tf.Tensor4D { return tf.add(tf.mul(y, tf.exp(this.logs)), this.b); }
}

/** tfjs has no slogdet: log|det W| on the host, its gradient W⁻ᵀ through customGrad (what Glow ports do). */
const logAbsDet = tf.customGrad(((w: tf.Tensor) => {
  const n = w.shape[0]!;
  const host = Float64Array.from(w.dataSync());
  const invT = transpose(inverse(host, n)!, n);
  return { value: tf.scalar(slogdet(host, n).logAbs), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(Float32Array.from(invT), [n, n])) };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (w: tf.Tensor) => tf.Scalar;

class Conv1x1 {
  private readonly w: tf.Variable;
  constructor(vars: Vars, name: string, private readonly C: number) { this.w = vars.get(`${name}.weight`, 'matrix'); }
  forward(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor] {
    const [, H, W] = x.shape;
    const y = tf.conv2d(x, tf.reshape(tf.transpose(this.w), [1, 1, this.C, this.C]) as tf.Tensor4D, 1, 'valid');
    return [y, tf.mul(logAbsDet(this.w), H * W)];
  }
  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const inv = inverse(Float64Array.from(this.w.dataSync()), this.C)!;
    return tf.conv2d(y, tf.reshape(tf.transpose(tf.tensor2d(Float32Array.from(inv), [this.C, this.C])), [1, 1, this.C, this.C]) as tf.Tensor4D, 1, 'valid');
  }
}

class Coupling {
  private readonly p: tf.Variable[];
  constructor(vars: Vars, name: string, private readonly C: number) {
    const n = `${name}.net`;
    this.p = [vars.get(`${n}.conv1.weight`, 'kernel'), vars.get(`${n}.conv1.bias`, 'vector'), vars.get(`${n}.conv2.weight`, 'kernel'),
      vars.get(`${n}.conv2.bias`, 'vector'), vars.get(`${n}.out.weight`, 'kernel'), vars.get(`${n}.out.bias`, 'vector'), vars.get(`${n}.out.logs`, 'vector')];
  }
  /** conv3×3 → ReLU → conv1×1 → ReLU → conv3×3 · exp(3·logs), split into log-scale (even channels) and shift (odd). */
  private net(x1: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    const [w1, b1, w2, b2, w3, b3, logs] = this.p as unknown as [tf.Tensor4D, tf.Tensor, tf.Tensor4D, tf.Tensor, tf.Tensor4D, tf.Tensor, tf.Tensor];
    const h1 = tf.relu(tf.add(tf.conv2d(x1, w1, 1, 'same'), b1)) as tf.Tensor4D;
    const h2 = tf.relu(tf.add(tf.conv2d(h1, w2, 1, 'valid'), b2)) as tf.Tensor4D;
    const h = tf.mul(tf.add(tf.conv2d(h2, w3, 1, 'same'), b3), tf.exp(tf.mul(logs, 3)));
    const [N, H, W, Co] = h.shape as number[];
    const r = tf.reshape(h, [N!, H!, W!, Co! / 2, 2]);
    const pick = (i: number) => tf.reshape(tf.slice(r, [0, 0, 0, 0, i], [-1, -1, -1, -1, 1]), [N!, H!, W!, Co! / 2]) as tf.Tensor4D;
    return [tf.mul(tf.tanh(tf.mul(pick(0), 0.5)), 2), pick(1)];
  }
  private halves(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
    const h = Math.floor(this.C / 2);
    return tf.split(x, [h, this.C - h], 3) as [tf.Tensor4D, tf.Tensor4D];
  }
  forward(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor] {
    const [x1, x2] = this.halves(x);
    const [logS, t] = this.net(x1);
    return [tf.concat([x1, tf.add(tf.mul(x2, tf.exp(logS)), t)], 3) as tf.Tensor4D, tf.sum(logS, [1, 2, 3])];
  }
  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const [x1, y2] = this.halves(y);
    const [logS, t] = this.net(x1);
    return tf.concat([x1, tf.mul(tf.sub(y2, t), tf.exp(tf.neg(logS)))], 3) as tf.Tensor4D;
  }
}

function squeeze(x: tf.Tensor4D): tf.Tensor4D {
  const [N, H, W, C] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [N, H / 2, 2, W / 2, 2, C]), [0, 1, 3, 5, 2, 4]), [N, H / 2, W / 2, 4 * C]) as tf.Tensor4D;
}
function unsqueeze(x: tf.Tensor4D): tf.Tensor4D {
  const [N, H, W, C4] = x.shape;
  const C = C4 / 4;
  return tf.reshape(tf.transpose(tf.reshape(x, [N, H, W, C, 2, 2]), [0, 1, 4, 2, 5, 3]), [N, 2 * H, 2 * W, C]) as tf.Tensor4D;
}
const gaussianLogProb = (z: tf.Tensor): tf.Tensor => tf.sum(tf.sub(tf.mul(tf.square(z), -0.5), 0.5 * LN2PI), [1, 2, 3]);

interface Step { finc: FincUnit; actnorm: ActNorm; conv1x1: Conv1x1; coupling: Coupling }

export class TfjsFincFlow {
  readonly vars: tf.Variable[];
  private readonly levels: Array<{ steps: Step[]; split: Coupling | null; C: number }> = [];
  readonly dims: number;

  constructor(readonly shape: FlowShape, weights: HostWeights) {
    const vars = new Vars(weights);
    let C = shape.inputShape[0];
    for (let l = 0; l < shape.levels; l++) {
      C *= 4;
      const steps: Step[] = [];
      for (let s = 0; s < shape.steps; s++) {
        const p = `flow.levels.${l}.steps.${s}`;
        steps.push({ finc: new FincUnit(vars, `${p}.finc`, C, shape.kernelSize), actnorm: new ActNorm(vars, `${p}.actnorm`),
          conv1x1: new Conv1x1(vars, `${p}.conv1x1`, C), coupling: new Coupling(vars, `${p}.coupling`, C) });
      }
      const last = l === shape.levels - 1;
      this.levels.push({ steps, split: last ? null : new Coupling(vars, `flow.levels.${l}.split.coupling`, C), C });
      if (!last) C = Math.floor(C / 2);
    }
    this.vars = vars.list;
    this.dims = shape.inputShape.reduce((a, b) => a * b, 1);
  }

  /** log p(x) per image; x NHWC dequantised pixels in [0, 256). */
  logProb(x: tf.Tensor4D): tf.Tensor1D {
    const a = this.shape.alpha;
    const p = tf.add(tf.mul(x, (1 - 2 * a) / 256), a * (1 - 2 * a));
    const lp = tf.log(p), l1p = tf.log(tf.sub(1, p));
    let h = tf.sub(lp, l1p) as tf.Tensor4D;
    let ll: tf.Tensor = tf.add(tf.neg(tf.sum(tf.add(lp, l1p), [1, 2, 3])), this.dims * (Math.log(1 - 2 * a) - Math.log(256)));
    for (const level of this.levels) {
      h = squeeze(h);
      for (const st of level.steps) {
        h = st.finc.forward(h);
        for (const layer of [st.actnorm, st.conv1x1, st.coupling]) {
          const [y, ld] = layer.forward(h);
          h = y;
          ll = tf.add(ll, ld);
        }
      }
      if (level.split) {
        const [y, ld] = level.split.forward(h);
        const kept = Math.floor(level.C / 2);
        const [hk, z] = tf.split(y, [kept, level.C - kept], 3) as [tf.Tensor4D, tf.Tensor4D];
        ll = tf.add(tf.add(ll, ld), gaussianLogProb(z));
        h = hk;
      }
    }
    return tf.add(ll, gaussianLogProb(h)) as tf.Tensor1D;
  }

  meanBitsPerDim(x: tf.Tensor4D): tf.Scalar {
    return tf.mul(tf.mean(this.logProb(x)), -1 / (this.dims * Math.LN2)) as tf.Scalar;
  }

  /** Pixels in [0, 256] from latents in encode's order (NHWC), every layer inverted in turn. */
  sample(zs: tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      let h = zs[zs.length - 1]!;
      let zi = zs.length - 2;
      for (let l = this.levels.length - 1; l >= 0; l--) {
        const level = this.levels[l]!;
        if (level.split) h = level.split.inverse(tf.concat([h, zs[zi--]!], 3));
        for (let s = level.steps.length - 1; s >= 0; s--) {
          const st = level.steps[s]!;
          h = st.finc.inverse(st.actnorm.inverse(st.conv1x1.inverse(st.coupling.inverse(h))));
        }
        h = unsqueeze(h);
      }
      const a = this.shape.alpha;
      return tf.clipByValue(tf.sub(tf.mul(tf.sigmoid(h), 256 / (1 - 2 * a)), a * 256), 0, 256) as tf.Tensor4D;
    });
  }

  dispose(): void { for (const v of this.vars) v.dispose(); }
}

/** One training step as the tfjs docs show it: variableGrads of the mean bits/dim, then Adam. */
export function tfjsTrainStep(flow: TfjsFincFlow, opt: tf.Optimizer, x: tf.Tensor4D): number {
  const { value, grads } = tf.variableGrads(() => flow.meanBitsPerDim(x), flow.vars);
  opt.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  value.dispose();
  tf.dispose(grads);
  return loss;
}

export const toNhwc = (data: Float32Array, shape: readonly number[]): tf.Tensor4D =>
  tf.tensor4d(nchwToNhwc(data, shape), [shape[0]!, shape[2]!, shape[3]!, shape[1]!]);
