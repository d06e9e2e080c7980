// The conditional GAN of src/models/gan written the way a tfjs user would port it (NHWC, the ACGAN
// of the tfjs examples as the nearest peer, with BigGAN's parts that tfjs lacks built from tfjs ops):
// spectral norm as one power iteration per forward with u, v in non-trainable variables, conditional
// BatchNorm from tf.moments and a one-hot matMul, a projection head; tf.variableGrads + tf.train.adam.
// Built from the same GanConfig with inflow's weights and power-iteration vectors by name, so the
// first steps' losses can be compared.
import type { GanConfig } from '../../src/models/gan/config.js';
import { oihwToHwio, tf } from '../tfjs.js';
import type { HostWeights } from './tfjs-flow.js';
import { convWithFilterGrad } from './tfjs-unet.js';

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

class Store {
  readonly trainable: tf.Variable[] = [];
  constructor(private readonly w: HostWeights, private readonly prefix: string) {}
  host(name: string): { data: Float32Array; shape: number[] } {
    const h = this.w.get(`${this.prefix}${name}`);
    if (!h) throw new Error(`tfjs gan: no weight '${this.prefix}${name}'`);
    return h;
  }
  variable(data: Float32Array, shape: number[], trainable: boolean): tf.Variable {
    const t = tf.tensor(data, shape);
    const v = tf.variable(t, trainable);
    t.dispose();
    if (trainable) this.trainable.push(v);
    return v;
  }
}

const unit = (t: tf.Tensor): tf.Tensor => tf.div(t, tf.add(tf.sqrt(tf.sum(tf.square(t))), 1e-12));

/**
 * W / σ(W) with σ from one power-iteration step per training forward (Miyato et al.). inflow views a
 * conv weight [O, I, k, k] as the matrix [O, I·k·k]; here it is HWIO, whose [k·k·I, O] reshape is that
 * matrix transposed with its columns permuted, which leaves σ unchanged: inflow's v is permuted to
 * match once, at load. The new u, v are assigned to variables outside varList, so no gradient flows
 * through them, as in inflow's noGrad.
 */
class SpectralWeight {
  readonly w: tf.Variable;
  private readonly u: tf.Variable;
  private readonly v: tf.Variable;
  /** Whether this tfjs matrix is inflow's transposed (convs). */
  private readonly transposed: boolean;

  constructor(s: Store, name: string) {
    const w = s.host(`${name}.module.weight`), u = s.host(`${name}.u`), v = s.host(`${name}.v`);
    this.transposed = w.shape.length === 4;
    if (this.transposed) {
      const [O, I, kh, kw] = w.shape as [number, number, number, number];
      this.w = s.variable(oihwToHwio(w.data, w.shape), [kh, kw, I, O], true);
      const pv = new Float32Array(v.data.length);
      for (let i = 0; i < I; i++) for (let a = 0; a < kh * kw; a++) pv[a * I + i] = v.data[i * kh * kw + a]!;
      this.u = s.variable(u.data, [1, O], false);
      this.v = s.variable(pv, [1, pv.length], false);
    } else {
      this.w = s.variable(w.data, w.shape, true);
      this.u = s.variable(u.data, [1, u.data.length], false);
      this.v = s.variable(v.data, [1, v.data.length], false);
    }
  }

  /** The rows × cols matrix of inflow's view, as this layout holds it ([k·k·I, O] for convs). */
  private matrix(): tf.Tensor2D {
    const s = this.w.shape;
    return tf.reshape(this.w, this.transposed ? [s[0]! * s[1]! * s[2]!, s[3]!] : [s[0]!, s[1]!]) as tf.Tensor2D;
  }

  normalized(training: boolean): tf.Tensor {
    if (training) {
      const [u, v] = tf.tidy(() => {
        const m = this.matrix();
        // inflow: v ← unit(u·W), u ← unit(v·Wᵀ), W its [rows, cols] matrix (this one transposed for convs).
        const v = unit(tf.matMul(this.u, m, false, this.transposed));
        const u = unit(tf.matMul(v, m, false, !this.transposed));
        return [u, v];
      });
      this.u.assign(u!);
      this.v.assign(v!);
      tf.dispose([u!, v!]);
    }
    const sigma = tf.sum(tf.mul(tf.matMul(this.v, this.matrix(), false, !this.transposed), this.u));
    return tf.div(this.w, sigma);
  }
}

class SnConv {
  private readonly sw: SpectralWeight;
  private readonly b: tf.Variable;
  private readonly conv: Conv;
  constructor(s: Store, name: string) {
    this.sw = new SpectralWeight(s, name);
    const b = s.host(`${name}.module.bias`);
    this.b = s.variable(b.data, b.shape, true);
    this.conv = convWithFilterGrad(1, (this.sw.w.shape[0]! - 1) / 2);
  }
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.add(this.conv(x, this.sw.normalized(training) as tf.Tensor4D), this.b);
  }
}

class SnLinear {
  private readonly sw: SpectralWeight;
  private readonly b: tf.Variable | null;
  constructor(s: Store, name: string, bias: boolean) {
    this.sw = new SpectralWeight(s, name);
    const b = bias ? s.host(`${name}.module.bias`) : null;
    this.b = b ? s.variable(b.data, b.shape, true) : null;
  }
  forward(x: tf.Tensor, training: boolean): tf.Tensor {
    const y = tf.matMul(x as tf.Tensor2D, this.sw.normalized(training) as tf.Tensor2D);
    return this.b ? tf.add(y, this.b) : y;
  }
}

/** BatchNorm over N, H, W with batch statistics, and the running ones moved as inflow does (unbiased variance, momentum 0.1). */
class BatchNorm {
  private readonly mean: tf.Variable;
  private readonly variance: tf.Variable;
  readonly gamma: tf.Variable | null;
  readonly beta: tf.Variable | null;
  constructor(s: Store, name: string, affine: boolean) {
    const m = s.host(`${name}.running_mean`), v = s.host(`${name}.running_var`);
    this.mean = s.variable(m.data, m.shape, false);
    this.variance = s.variable(v.data, v.shape, false);
    this.gamma = affine ? s.variable(s.host(`${name}.weight`).data, m.shape, true) : null;
    this.beta = affine ? s.variable(s.host(`${name}.bias`).data, m.shape, true) : null;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const [N, H, W] = x.shape, count = N * H * W;
    const [rm, rv] = tf.tidy(() => [tf.add(tf.mul(this.mean, 0.9), tf.mul(mean, 0.1)), tf.add(tf.mul(this.variance, 0.9), tf.mul(variance, 0.1 * count / Math.max(1, count - 1)))]);
    this.mean.assign(rm!);
    this.variance.assign(rv!);
    tf.dispose([rm!, rv!]);
    let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    if (this.gamma && this.beta) y = tf.add(tf.mul(y, this.gamma), this.beta);
    return y as tf.Tensor4D;
  }
}

/** x̂·(1 + c·W_γ) + c·W_β, c the one-hot class rows (sharedDim 0). */
class CondBatchNorm {
  private readonly bn: BatchNorm;
  private readonly gain: tf.Variable;
  private readonly bias: tf.Variable;
  constructor(s: Store, name: string) {
    this.bn = new BatchNorm(s, `${name}.bn`, false);
    const g = s.host(`${name}.gain.weight`), b = s.host(`${name}.bias.weight`);
    this.gain = s.variable(g.data, g.shape, true);
    this.bias = s.variable(b.data, b.shape, true);
  }
  forward(x: tf.Tensor4D, cond: tf.Tensor2D): tf.Tensor4D {
    const [N, , , C] = x.shape;
    const per = (w: tf.Variable) => tf.reshape(tf.matMul(cond, w as unknown as tf.Tensor2D), [N, 1, 1, C]);
    return tf.add(tf.mul(this.bn.forward(x), tf.add(per(this.gain), 1)), per(this.bias)) as tf.Tensor4D;
  }
}

const up = (x: tf.Tensor4D) => tf.image.resizeNearestNeighbor(x, [2 * x.shape[1], 2 * x.shape[2]]);
const pool = (x: tf.Tensor4D) => tf.avgPool(x, 2, 2, 'valid');

export class TfjsGanGenerator {
  readonly vars: tf.Variable[];
  private readonly input: SnLinear;
  private readonly blocks: Array<{ n1: CondBatchNorm; c1: SnConv; n2: CondBatchNorm; c2: SnConv; skip: SnConv }> = [];
  private readonly outNorm: BatchNorm;
  private readonly out: SnConv;

  /** `weights`: inflow's generator state by its own names (no prefix); the input layer's columns are permuted from NCHW's c·16 + p to NHWC's p·C + c. */
  constructor(readonly config: GanConfig, weights: HostWeights) {
    if (config.sharedDim > 0) throw new Error('tfjs gan: the shared class embedding is not ported (sharedDim 0 only)');
    const s = new Store(nhwcInput(weights, config.gWidths[0]! * config.ch), '');
    this.input = new SnLinear(s, 'input', true);
    for (let b = 0; b + 1 < config.gWidths.length; b++)
      this.blocks.push({ n1: new CondBatchNorm(s, `blocks.${b}.norm1`), c1: new SnConv(s, `blocks.${b}.conv1`), n2: new CondBatchNorm(s, `blocks.${b}.norm2`),
        c2: new SnConv(s, `blocks.${b}.conv2`), skip: new SnConv(s, `blocks.${b}.skip`) });
    this.outNorm = new BatchNorm(s, 'outNorm', true);
    this.out = new SnConv(s, 'out');
    this.vars = s.trainable;
  }

  /** z [N, zDim], one-hot classes [N, K] → images NHWC [N, R, R, C] in [−1, 1] (training mode). */
  forward(z: tf.Tensor2D, cond: tf.Tensor2D): tf.Tensor4D {
    const n = z.shape[0], c0 = this.config.gWidths[0]! * this.config.ch;
    let h = tf.reshape(this.input.forward(z, true), [n, 4, 4, c0]) as tf.Tensor4D;
    for (const b of this.blocks) {
      const r = b.c2.forward(tf.relu(b.n2.forward(b.c1.forward(up(tf.relu(b.n1.forward(h, cond))), true), cond)), true);
      h = tf.add(r, b.skip.forward(up(h), true));
    }
    return tf.tanh(this.out.forward(tf.relu(this.outNorm.forward(h)), true));
  }

  dispose(): void { for (const v of this.vars) v.dispose(); }
}

/** inflow reshapes the input layer's [N, 16·C] to NCHW [N, C, 4, 4]; NHWC wants column p·C + c where inflow has c·16 + p. */
function nhwcInput(w: HostWeights, C: number): HostWeights {
  const out = new Map(w);
  const perm = (data: Float32Array, rows: number) => {
    const o = new Float32Array(data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) for (let p = 0; p < 16; p++) o[r * 16 * C + p * C + c] = data[r * 16 * C + c * 16 + p]!;
    return o;
  };
  for (const name of ['input.module.weight', 'input.module.bias', 'input.v']) {
    const h = w.get(name)!;
    out.set(name, { data: perm(h.data, h.data.length / (16 * C)), shape: h.shape });
  }
  return out;
}

export class TfjsGanDiscriminator {
  readonly vars: tf.Variable[];
  private readonly blocks: Array<{ c1: SnConv; c2: SnConv; skip: SnConv | null; down: boolean; pre: boolean }> = [];
  private readonly psi: SnLinear;
  private readonly embed: SnLinear;

  constructor(readonly config: GanConfig, weights: HostWeights) {
    const s = new Store(weights, ''), downs = Math.log2(config.resolution / 4);
    config.dWidths.forEach((_, b) => this.blocks.push({ c1: new SnConv(s, `blocks.${b}.conv1`), c2: new SnConv(s, `blocks.${b}.conv2`),
      skip: weights.has(`blocks.${b}.skip.module.weight`) ? new SnConv(s, `blocks.${b}.skip`) : null, down: b < downs, pre: b > 0 }));
    this.psi = new SnLinear(s, 'psi', true);
    this.embed = new SnLinear(s, 'embed', false);
    this.vars = s.trainable;
  }

  /** images NHWC → logits [N, M] (ψ(h) + projection on every class embedding). */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    let h = x;
    for (const b of this.blocks) {
      const p = (t: tf.Tensor4D) => (b.down ? pool(t) : t);
      const r = p(b.c2.forward(tf.relu(b.c1.forward(b.pre ? tf.relu(h) : h, true)), true));
      h = tf.add(r, b.skip ? b.skip.forward(p(h), true) : h);
    }
    const pooled = tf.sum(tf.relu(h), [1, 2]);
    return tf.add(this.embed.forward(pooled, true), this.psi.forward(pooled, true)) as tf.Tensor2D;
  }

  dispose(): void { for (const v of this.vars) v.dispose(); }
}

/** Crammer–Singer: mean relu(1 + max_{k≠y} l_k − l_y), the target pushed far down before the max as inflow does. */
function crammerSinger(logits: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor {
  const right = tf.sum(tf.mul(logits, mask), 1), wrong = tf.max(tf.sub(logits, tf.mul(mask, 1e9)), 1);
  return tf.mean(tf.relu(tf.add(tf.sub(wrong, right), 1)));
}

/** The inputs of both steps as tfjs tensors: NHWC reals, z, and the one-hot rows of the classes (K + 1 wide for the head). */
export interface TfjsGanBatch { real: tf.Tensor4D; z: tf.Tensor2D; realHead: tf.Tensor2D; fakeCond: tf.Tensor2D; fakeHead: tf.Tensor2D; fakeClass: tf.Tensor2D }

/**
 * One discriminator step of ConditionalGanTask (hinge on the own-class scores + w × multi-hinge),
 * fakes made outside the gradient; then Adam. Returns the loss.
 */
export function tfjsDiscriminatorStep(G: TfjsGanGenerator, D: TfjsGanDiscriminator, opt: tf.Optimizer, b: TfjsGanBatch, w: number): number {
  const fake = tf.tidy(() => G.forward(b.z, b.fakeCond));
  const { value, grads } = tf.variableGrads(() => {
    const lr = D.forward(b.real), lf = D.forward(fake);
    const sr = tf.sum(tf.mul(lr, b.realHead), 1), sf = tf.sum(tf.mul(lf, b.fakeHead), 1);
    const hinge = tf.add(tf.mean(tf.relu(tf.sub(1, sr))), tf.mean(tf.relu(tf.add(sf, 1))));
    return tf.add(hinge, tf.mul(tf.add(crammerSinger(lr, b.realHead), crammerSinger(lf, b.fakeClass)), w)) as tf.Scalar;
  }, D.vars);
  opt.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, fake, ...Object.values(grads)]);
  return loss;
}

/** One generator step: −E[score] + w × multi-hinge of the fakes to their classes; then Adam. */
export function tfjsGeneratorStep(G: TfjsGanGenerator, D: TfjsGanDiscriminator, opt: tf.Optimizer, b: TfjsGanBatch, w: number): number {
  const { value, grads } = tf.variableGrads(() => {
    const l = D.forward(G.forward(b.z, b.fakeCond));
    const hinge = tf.neg(tf.mean(tf.sum(tf.mul(l, b.fakeHead), 1)));
    return tf.add(hinge, tf.mul(crammerSinger(l, b.fakeHead), w)) as tf.Scalar;
  }, G.vars);
  opt.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}
