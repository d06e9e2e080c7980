import { Rng } from '../../data/rng.js';
import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { AttentionBlock } from '../../nn/attention.js';
import { Conv2d } from '../../nn/conv2d.js';
import { Embedding } from '../../nn/embedding.js';
import { GroupNorm } from '../../nn/group-norm.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { ResidualBlock } from '../../nn/residual.js';
import { timestepEmbedding } from '../../nn/timestep.js';
import { add, concat, resize, silu } from '../../ops/index.js';
import { resolveUNetConfig, type UNetConfig } from './config.js';

/** One stage of either path: a residual block, optionally followed by self-attention. */
class Stage extends Module {
  readonly res: ResidualBlock;
  readonly attn: AttentionBlock | null;

  constructor(engine: Engine, inCh: number, outCh: number, embDim: number, withAttention: boolean, c: UNetConfig, rng: Rng, seed: number) {
    super(engine);
    this.res = this.child('res', new ResidualBlock(engine, inCh, {
      outChannels: outCh, embDim, activation: silu, normGroups: c.groups, dropout: c.dropout, dropoutSeed: seed, rng,
    }));
    this.attn = withAttention ? this.child('attn', new AttentionBlock(engine, outCh, { heads: c.heads, groups: c.groups, rng })) : null;
  }

  forward(x: Tensor, emb: Tensor): Tensor {
    const h = this.res.forward(x, emb);
    return this.attn ? this.attn.forward(h) : h;
  }
}

/** Halves H and W with a stride-2 3×3 convolution. */
class Downsample extends Module {
  readonly conv: Conv2d;
  constructor(engine: Engine, ch: number, rng: Rng) {
    super(engine);
    this.conv = this.child('conv', new Conv2d(engine, ch, ch, 3, { stride: 2, padding: 1, rng }));
  }
  forward(x: Tensor): Tensor { return this.conv.forward(x); }
}

/** Doubles H and W: nearest-neighbour resize, then a 3×3 convolution. */
class Upsample extends Module {
  readonly conv: Conv2d;
  constructor(engine: Engine, ch: number, rng: Rng) {
    super(engine);
    this.conv = this.child('conv', new Conv2d(engine, ch, ch, 3, { padding: 'same', rng }));
  }
  forward(x: Tensor): Tensor { return this.conv.forward(resize(x, { mode: 'nearest', scale: 2 })); }
}

/**
 * The diffusion UNet: ε̂ = UNet(x_t, t, y, cond). A timestep embedding (sinusoidal → Linear → SiLU →
 * Linear, plus a class embedding when conditional) conditions every residual block; the down path
 * keeps every stage's output for the skip connections the up path concatenates; attention runs at
 * the configured resolutions and in the middle. An image condition (condChannels > 0) of x_t's size
 * is concatenated to x_t along channels before the first convolution. The output convolution
 * starts at zero.
 */
export class UNet extends Module {
  readonly config: UNetConfig & { condChannels: number };
  readonly timeEmbed1: Linear;
  readonly timeEmbed2: Linear;
  readonly classEmbed: Embedding | null;
  readonly inConv: Conv2d;
  readonly down: Module[] = [];
  readonly middle: Stage[] = [];
  readonly up: Module[] = [];
  readonly outNorm: GroupNorm;
  readonly outConv: Conv2d;
  private readonly skipsOf: boolean[] = [];

  constructor(engine: Engine, config: Partial<UNetConfig> = {}, opts: { seed?: number } = {}) {
    super(engine);
    const c = (this.config = resolveUNetConfig(config));
    const rng = new Rng(opts.seed ?? 0);
    const base = c.baseChannels, embDim = 4 * base;
    let seed = (opts.seed ?? 0) * 1000;
    this.timeEmbed1 = this.child('time_embed1', new Linear(engine, base, embDim, { rng }));
    this.timeEmbed2 = this.child('time_embed2', new Linear(engine, embDim, embDim, { rng }));
    this.classEmbed = c.classes > 0 ? this.child('class_embed', new Embedding(engine, c.classes + 1, embDim, { rng })) : null;
    // With condChannels 0 this draws exactly what it drew before image conditioning existed, so old seeds rebuild the same weights.
    this.inConv = this.child('in_conv', new Conv2d(engine, c.inChannels + c.condChannels, base, 3, { padding: 'same', rng }));

    // Down path: channels of every saved activation, in order, for the up path's concatenations.
    const saved = [base];
    let ch = base, size = c.imageSize;
    c.channelMults.forEach((mult, level) => {
      for (let b = 0; b < c.resBlocks; b++) {
        const stage = new Stage(engine, ch, base * mult, embDim, c.attentionResolutions.includes(size), c, rng, seed++);
        this.down.push(this.child(`down.${this.down.length}`, stage));
        ch = base * mult;
        saved.push(ch);
      }
      if (level < c.channelMults.length - 1) {
        this.down.push(this.child(`down.${this.down.length}`, new Downsample(engine, ch, rng)));
        saved.push(ch);
        size /= 2;
      }
    });
    this.middle.push(this.child('middle.0', new Stage(engine, ch, ch, embDim, true, c, rng, seed++)));
    this.middle.push(this.child('middle.1', new Stage(engine, ch, ch, embDim, false, c, rng, seed++)));
    [...c.channelMults].reverse().forEach((mult, i) => {
      const level = c.channelMults.length - 1 - i;
      for (let b = 0; b <= c.resBlocks; b++) {
        const skip = saved.pop()!;
        this.up.push(this.child(`up.${this.up.length}`,
          new Stage(engine, ch + skip, base * mult, embDim, c.attentionResolutions.includes(size), c, rng, seed++)));
        this.skipsOf.push(true);
        ch = base * mult;
      }
      if (level > 0) {
        this.up.push(this.child(`up.${this.up.length}`, new Upsample(engine, ch, rng)));
        this.skipsOf.push(false);
        size *= 2;
      }
    });
    this.outNorm = this.child('out_norm', new GroupNorm(engine, c.groups, ch));
    this.outConv = this.child('out_conv', new Conv2d(engine, ch, c.outChannels, 3, { padding: 'same', rng, weightInit: 'zeros', biasInit: 'zeros' }));
  }

  /**
   * x [N, inChannels, S, S], t: N timesteps, labels: N class indices (the index `classes` means
   * "no label", for classifier-free guidance); required when the UNet is class-conditional.
   * cond [N, condChannels, S, S]: required when condChannels > 0, refused otherwise.
   */
  forward(x: Tensor, t: ArrayLike<number>, labels?: ArrayLike<number>, cond?: Tensor): Tensor {
    const c = this.config;
    if (x.rank !== 4 || x.shape[1] !== c.inChannels || x.shape[2] !== c.imageSize || x.shape[3] !== c.imageSize)
      fail('unet', `input must be [N, ${c.inChannels}, ${c.imageSize}, ${c.imageSize}], got ${shapeStr(x.shape)}`);
    const N = x.shape[0]!;
    if (c.condChannels > 0) {
      if (!cond) fail('unet', `this UNet is image-conditioned: give cond [${N}, ${c.condChannels}, ${c.imageSize}, ${c.imageSize}]`);
      if (cond.rank !== 4 || cond.shape[0] !== N || cond.shape[1] !== c.condChannels || cond.shape[2] !== c.imageSize || cond.shape[3] !== c.imageSize)
        fail('unet', `cond must be [${N}, ${c.condChannels}, ${c.imageSize}, ${c.imageSize}], got ${shapeStr(cond.shape)}`);
    } else if (cond) fail('unet', 'cond was given to a UNet without condChannels');
    if (t.length !== N) fail('unet', `${t.length} timesteps for a batch of ${N}`);
    let emb = this.timeEmbed2.forward(silu(this.timeEmbed1.forward(timestepEmbedding(this.engine, t, c.baseChannels))));
    if (this.classEmbed) {
      if (!labels || labels.length !== N) fail('unet', `this UNet is class-conditional: give ${N} labels (${c.classes} = no label)`);
      emb = add(emb, this.classEmbed.forward(labels));
    } else if (labels) fail('unet', 'labels were given to an unconditional UNet');

    let h = this.inConv.forward(cond ? concat([x, cond], 1) : x);
    const skips = [h];
    for (const m of this.down) {
      h = m instanceof Stage ? m.forward(h, emb) : (m as Downsample).forward(h);
      skips.push(h);
    }
    for (const m of this.middle) h = m.forward(h, emb);
    this.up.forEach((m, i) => {
      h = this.skipsOf[i] ? (m as Stage).forward(concat([h, skips.pop()!], 1), emb) : (m as Upsample).forward(h);
    });
    return this.outConv.forward(silu(this.outNorm.forward(h)));
  }
}
