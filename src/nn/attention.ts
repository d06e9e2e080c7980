import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add, attention, permute, reshape, slice } from '../ops/index.js';
import { Conv2d } from './conv2d.js';
import { defaultInitRng } from './init.js';
import { GroupNorm } from './group-norm.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { Rng } from '../data/rng.js';

export interface AttentionBlockOptions {
  /** Heads (default 1); channels must divide by it. */
  heads?: number;
  /** GroupNorm groups in front (default min(32, channels) dividing channels). */
  groups?: number;
  /** Width of the context vectors for cross-attention (default: self-attention only). */
  contextDim?: number;
  rng?: Rng;
}

/** The largest divisor of `channels` not above `max`: a GroupNorm group count that always fits. */
export function defaultGroups(channels: number, max = 32): number {
  for (let g = Math.min(max, channels); g > 1; g--) if (channels % g === 0) return g;
  return 1;
}

/** [B, heads·dh, S] → [B·heads, S, dh]: heads folded into the attention op's batch. */
function splitHeads(t: Tensor, heads: number): Tensor {
  const [B, C, S] = t.shape as [number, number, number];
  return reshape(permute(reshape(t, [B, heads, C / heads, S]), [0, 1, 3, 2]), [B * heads, S, C / heads]);
}

/**
 * Attention over the pixels of a feature map, as in diffusion UNets: x + proj(attn(GroupNorm(x))),
 * queries from the pixels and keys/values from the pixels (self) or from a context sequence
 * [B, M, contextDim] (cross). proj starts at zero, so a new block is the identity.
 */
export class AttentionBlock extends Module {
  readonly norm: GroupNorm;
  readonly q: Conv2d;
  readonly kv: Conv2d | Linear;
  readonly proj: Conv2d;
  readonly heads: number;

  constructor(engine: Engine, readonly channels: number, opts: AttentionBlockOptions = {}) {
    super(engine);
    this.heads = opts.heads ?? 1;
    if (!Number.isInteger(this.heads) || this.heads < 1 || channels % this.heads !== 0)
      fail('AttentionBlock', `heads = ${this.heads} must be a positive integer dividing channels = ${channels}`);
    const rng = opts.rng ?? defaultInitRng();
    this.norm = this.child('norm', new GroupNorm(engine, opts.groups ?? defaultGroups(channels), channels));
    this.q = this.child('q', new Conv2d(engine, channels, channels, 1, { rng }));
    this.kv = this.child('kv', opts.contextDim
      ? new Linear(engine, opts.contextDim, 2 * channels, { rng })
      : new Conv2d(engine, channels, 2 * channels, 1, { rng }));
    this.proj = this.child('proj', new Conv2d(engine, channels, channels, 1, { rng, weightInit: 'zeros', biasInit: 'zeros' }));
  }

  get isCross(): boolean { return this.kv instanceof Linear; }

  /** x [B, C, H, W]; context [B, M, contextDim] for a cross-attention block. */
  forward(x: Tensor, context?: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.channels) fail(this.path, `input must be [B, ${this.channels}, H, W], got ${shapeStr(x.shape)}`);
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const h = this.norm.forward(x);
    const q = splitHeads(reshape(this.q.forward(h), [B, C, H * W]), this.heads);
    let kv: Tensor;
    if (this.kv instanceof Linear) {
      if (!context || context.rank !== 3 || context.shape[0] !== B)
        fail(this.path, `cross-attention needs a context [${B}, M, ${this.kv.inFeatures}], got ${context ? shapeStr(context.shape) : 'none'}`);
      kv = permute(this.kv.forward(context), [0, 2, 1]); // [B, 2C, M]
    } else {
      if (context) fail(this.path, 'a context was given to a self-attention block (build it with contextDim for cross-attention)');
      kv = reshape(this.kv.forward(h), [B, 2 * C, H * W]);
    }
    const k = splitHeads(slice(kv, 1, 0, C), this.heads), v = splitHeads(slice(kv, 1, C, C), this.heads);
    const o = attention(q, k, v); // [B·heads, HW, dh]
    const merged = reshape(permute(reshape(o, [B, this.heads, H * W, C / this.heads]), [0, 1, 3, 2]), [B, C, H, W]);
    return add(x, this.proj.forward(merged));
  }
}
