// The diffusion UNet of src/models/unet written the way a tfjs user would (NHWC, tf.conv2d with
// explicit padding, GroupNorm from tf.moments, attention from tf.matMul + tf.softmax,
// tf.variableGrads + tf.train.adam), built from the same UNetConfig with inflow's weights by name.
import { createRequire } from 'node:module';
import type { UNetConfig } from '../../src/models/unet/config.js';
import { oihwToHwio, tf } from '../tfjs.js';
import type { HostWeights } from './tfjs-flow.js';

// tfjs-core's Node bundle registers no gradients; see tfjs-flow.ts. The registry is global.
createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients.js');

type Pad = [[number, number], [number, number], [number, number], [number, number]];
const padOf = (p: number): Pad => [[0, 0], [p, p], [p, p], [0, 0]];

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so tf.conv2d's own gradient fails on
 * it. This conv2d has the gradient a tfjs user can write with ops the wasm backend has: the input
 * gradient is tf.conv2dTranspose (what tfjs itself uses), and the filter gradient is one more
 * tf.conv2d on XNNPACK, with the images' channels as its batch and dy as its (dilated) filter:
 *   dW[a, b, ci, co] = Σ_{n,p,q} x[n, p·s + a − top, q·s + b − left, ci] · dy[n, p, q, co]
 *                    = conv2d(xᵀ [Ci, H, W, N], dyᵀ [Ho, Wo, N, Co], dilation s)[ci, a, b, co].
 */
export function convWithFilterGrad(stride: number, pad: number): (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D {
  return tf.customGrad(((x: tf.Tensor4D, w: tf.Tensor4D, save: (ts: tf.Tensor[]) => void) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, stride, padOf(pad)),
      gradFunc: (dy: tf.Tensor4D, [xs, ws]: tf.Tensor[]) => {
        const [N, H, W, Ci] = xs!.shape as [number, number, number, number];
        const [kh, kw] = ws!.shape as [number, number, number, number];
        const [, Ho, Wo] = dy.shape;
        const dx = tf.conv2dTranspose(dy, ws as tf.Tensor4D, [N, H, W, Ci], stride, padOf(pad));
        // Rows of the padded input past the last tap of the last output (bottom, right) are never read.
        const bottom = kh + (Ho - 1) * stride - H - pad, right = kw + (Wo - 1) * stride - W - pad;
        if (bottom < 0 || right < 0) throw new Error(`tfjs unet: filter gradient for this geometry is not written (${H}×${W}, k ${kh}, stride ${stride}, pad ${pad})`);
        const xt = tf.transpose(xs!, [3, 1, 2, 0]) as tf.Tensor4D;
        const ft = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
        const dw = tf.transpose(tf.conv2d(xt, ft, 1, [[0, 0], [pad, bottom], [pad, right], [0, 0]], 'NHWC', stride), [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
}

class Vars {
  readonly list: tf.Variable[] = [];
  constructor(private readonly w: HostWeights) {}
  get(name: string): tf.Variable {
    const h = this.w.get(name);
    if (!h) throw new Error(`tfjs unet: no weight '${name}'`);
    const s = h.shape;
    const t = s.length === 4 ? tf.tensor4d(oihwToHwio(h.data, s), [s[2]!, s[3]!, s[1]!, s[0]!]) : tf.tensor(h.data, s);
    const v = tf.variable(t, true);
    t.dispose();
    this.list.push(v);
    return v;
  }
}

const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

class Conv {
  private readonly w: tf.Variable;
  private readonly b: tf.Variable;
  private readonly pad: number;
  private readonly f: ((x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D) | null;
  constructor(vars: Vars, name: string, private readonly stride: number, trainOnWasm: boolean) {
    this.w = vars.get(`${name}.weight`);
    this.b = vars.get(`${name}.bias`);
    this.pad = (this.w.shape[0]! - 1) / 2;
    this.f = trainOnWasm ? convWithFilterGrad(stride, this.pad) : null;
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const w = this.w as unknown as tf.Tensor4D;
    return tf.add(this.f ? this.f(x, w) : tf.conv2d(x, w, this.stride, padOf(this.pad)), this.b);
  }
}

class Linear {
  private readonly w: tf.Variable;
  private readonly b: tf.Variable;
  constructor(vars: Vars, name: string) { this.w = vars.get(`${name}.weight`); this.b = vars.get(`${name}.bias`); }
  forward(x: tf.Tensor): tf.Tensor { return tf.add(tf.matMul(x as tf.Tensor2D, this.w as unknown as tf.Tensor2D), this.b); }
}

/** tfjs has no GroupNorm: per (image, group) moments over H, W and the group's channels. */
class GroupNorm {
  private readonly g: tf.Variable;
  private readonly b: tf.Variable;
  constructor(vars: Vars, name: string, private readonly groups: number, private readonly eps = 1e-5) {
    this.g = vars.get(`${name}.weight`); this.b = vars.get(`${name}.bias`);
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [N, H, W, C] = x.shape, G = this.groups;
    const r = tf.reshape(x, [N, H, W, G, C / G]);
    const { mean, variance } = tf.moments(r, [1, 2, 4], true);
    const y = tf.reshape(tf.mul(tf.sub(r, mean), tf.rsqrt(tf.add(variance, this.eps))), [N, H, W, C]);
    return tf.add(tf.mul(y, this.g), this.b) as tf.Tensor4D;
  }
}

class ResBlock {
  private readonly norm1: GroupNorm; private readonly conv1: Conv; private readonly emb: Linear;
  private readonly norm2: GroupNorm; private readonly conv2: Conv; private readonly skip: Conv | null;
  constructor(vars: Vars, p: string, inCh: number, outCh: number, groups: number, wasm: boolean) {
    this.norm1 = new GroupNorm(vars, `${p}.norm1`, groups);
    this.conv1 = new Conv(vars, `${p}.conv1`, 1, wasm);
    this.emb = new Linear(vars, `${p}.emb`);
    this.norm2 = new GroupNorm(vars, `${p}.norm2`, groups);
    this.conv2 = new Conv(vars, `${p}.conv2`, 1, wasm);
    this.skip = inCh !== outCh ? new Conv(vars, `${p}.skip`, 1, wasm) : null;
  }
  forward(x: tf.Tensor4D, e: tf.Tensor): tf.Tensor4D {
    let h = this.conv1.forward(silu(this.norm1.forward(x)) as tf.Tensor4D);
    const [N, , , C] = h.shape;
    h = tf.add(h, tf.reshape(this.emb.forward(silu(e)), [N, 1, 1, C]));
    h = this.conv2.forward(silu(this.norm2.forward(h)) as tf.Tensor4D);
    return tf.add(this.skip ? this.skip.forward(x) : x, h);
  }
}

class Attention {
  private readonly norm: GroupNorm; private readonly q: Conv; private readonly kv: Conv; private readonly proj: Conv;
  constructor(vars: Vars, p: string, private readonly heads: number, groups: number, wasm: boolean) {
    this.norm = new GroupNorm(vars, `${p}.norm`, groups);
    this.q = new Conv(vars, `${p}.q`, 1, wasm);
    this.kv = new Conv(vars, `${p}.kv`, 1, wasm);
    this.proj = new Conv(vars, `${p}.proj`, 1, wasm);
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [B, H, W, C] = x.shape, h = this.heads, d = C / h;
    const n = this.norm.forward(x);
    // Channel c = head·d + j, as inflow splits them.
    const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, H * W, h, d]), [0, 2, 1, 3]);
    const kv = this.kv.forward(n);
    const [k, v] = tf.split(kv, 2, 3);
    const s = tf.mul(tf.matMul(split(this.q.forward(n)) as tf.Tensor4D, split(k!) as tf.Tensor4D, false, true), 1 / Math.sqrt(d));
    const o = tf.matMul(tf.softmax(s) as tf.Tensor4D, split(v!) as tf.Tensor4D);
    return tf.add(x, this.proj.forward(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, H, W, C]) as tf.Tensor4D));
  }
}

type Stage = { kind: 'stage'; res: ResBlock; attn: Attention | null } | { kind: 'down'; conv: Conv } | { kind: 'up'; conv: Conv };

export class TfjsUNet {
  readonly vars: tf.Variable[];
  private readonly t1: Linear; private readonly t2: Linear; private readonly inConv: Conv;
  /** [classes + 1, 4·base]: row `classes` is the null label of classifier-free guidance. */
  private readonly classEmbed: tf.Variable | null;
  private readonly down: Stage[] = []; private readonly middle: Stage[] = []; private readonly up: Stage[] = [];
  private readonly outNorm: GroupNorm; private readonly outConv: Conv;

  /** `trainOnWasm`: convolutions carry the filter gradient above (needed only to train on tfjs-backend-wasm). */
  constructor(readonly config: UNetConfig, weights: HostWeights, trainOnWasm: boolean) {
    const c = config, vars = new Vars(weights), base = c.baseChannels, w = trainOnWasm;
    if (c.dropout > 0) throw new Error('tfjs unet: UNets with dropout are not ported');
    this.t1 = new Linear(vars, 'time_embed1');
    this.t2 = new Linear(vars, 'time_embed2');
    this.classEmbed = c.classes > 0 ? vars.get('class_embed.weight') : null;
    this.inConv = new Conv(vars, 'in_conv', 1, w);
    const stage = (p: string, inCh: number, outCh: number, attn: boolean): Stage =>
      ({ kind: 'stage', res: new ResBlock(vars, `${p}.res`, inCh, outCh, c.groups, w), attn: attn ? new Attention(vars, `${p}.attn`, c.heads, c.groups, w) : null });
    // The construction order of src/models/unet/unet.ts, which fixes the names and the skips.
    const saved = [base];
    let ch = base, size = c.imageSize;
    c.channelMults.forEach((mult, level) => {
      for (let b = 0; b < c.resBlocks; b++) {
        this.down.push(stage(`down.${this.down.length}`, ch, base * mult, c.attentionResolutions.includes(size)));
        ch = base * mult;
        saved.push(ch);
      }
      if (level < c.channelMults.length - 1) {
        this.down.push({ kind: 'down', conv: new Conv(vars, `down.${this.down.length}.conv`, 2, w) });
        saved.push(ch);
        size /= 2;
      }
    });
    this.middle.push(stage('middle.0', ch, ch, true), stage('middle.1', ch, ch, false));
    [...c.channelMults].reverse().forEach((mult, i) => {
      const level = c.channelMults.length - 1 - i;
      for (let b = 0; b <= c.resBlocks; b++) {
        this.up.push(stage(`up.${this.up.length}`, ch + saved.pop()!, base * mult, c.attentionResolutions.includes(size)));
        ch = base * mult;
      }
      if (level > 0) {
        this.up.push({ kind: 'up', conv: new Conv(vars, `up.${this.up.length}.conv`, 1, w) });
        size *= 2;
      }
    });
    this.outNorm = new GroupNorm(vars, 'out_norm', c.groups);
    this.outConv = new Conv(vars, 'out_conv', 1, w);
    this.vars = vars.list;
  }

  /**
   * x NHWC [N, S, S, inChannels]; temb [N, baseChannels]: the sinusoidal embedding of the timesteps, as
   * inflow computes it; labels int32 [N] of a class-conditional UNet (its embedding is added to the
   * time embedding, as in src/models/unet/unet.ts); cond NHWC [N, S, S, condChannels] of an
   * image-conditioned one (concatenated to x along channels before the first convolution).
   */
  forward(x: tf.Tensor4D, temb: tf.Tensor2D, labels?: tf.Tensor1D, cond?: tf.Tensor4D): tf.Tensor4D {
    if (!this.classEmbed !== !labels) throw new Error(`tfjs unet: labels ${labels ? 'given to an unconditional' : 'missing for a class-conditional'} UNet`);
    if (!(this.config.condChannels ?? 0) !== !cond) throw new Error(`tfjs unet: cond ${cond ? 'given to a UNet without' : 'missing for a UNet with'} condChannels`);
    let emb = this.t2.forward(silu(this.t1.forward(temb)));
    if (this.classEmbed && labels) emb = tf.add(emb, tf.gather(this.classEmbed, labels));
    const run = (s: Stage, h: tf.Tensor4D): tf.Tensor4D => {
      if (s.kind === 'down') return s.conv.forward(h);
      if (s.kind === 'up') return s.conv.forward(tf.image.resizeNearestNeighbor(h, [2 * h.shape[1], 2 * h.shape[2]]));
      const r = s.res.forward(h, emb);
      return s.attn ? s.attn.forward(r) : r;
    };
    let h = this.inConv.forward(cond ? tf.concat([x, cond], 3) as tf.Tensor4D : x);
    const skips = [h];
    for (const s of this.down) skips.push((h = run(s, h)));
    for (const s of this.middle) h = run(s, h);
    for (const s of this.up) h = run(s, s.kind === 'stage' ? tf.concat([h, skips.pop()!], 3) as tf.Tensor4D : h);
    return this.outConv.forward(silu(this.outNorm.forward(h)) as tf.Tensor4D);
  }

  dispose(): void { for (const v of this.vars) v.dispose(); }
}

/** One ε-loss training step as the tfjs docs show it: variableGrads of mean((ε̂ − ε)²), then Adam. */
export function tfjsUNetTrainStep(unet: TfjsUNet, opt: tf.Optimizer, x: tf.Tensor4D, temb: tf.Tensor2D, eps: tf.Tensor4D): number {
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(unet.forward(x, temb), eps)) as tf.Scalar, unet.vars);
  opt.applyGradients(grads);
  const loss = value.dataSync()[0]!;
  value.dispose();
  tf.dispose(grads);
  return loss;
}
