import type { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add, relu, reshape } from '../ops/index.js';
import { Conv2d } from './conv2d.js';
import { Dropout } from './dropout.js';
import { GroupNorm } from './group-norm.js';
import { defaultInitRng } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export interface ResidualBlockOptions {
  /** Output channels (default: the input's); a 1×1 convolution "skip" then matches the shortcut. */
  outChannels?: number;
  /** Odd kernel size of the two convolutions (default 3, 'same' padding). */
  kernelSize?: number;
  /** Width of a conditioning vector (a timestep embedding) added per channel after the first conv. */
  embDim?: number;
  /** Default relu. */
  activation?: (x: Tensor) => Tensor;
  /** GroupNorm with this many groups in front of each activation (default 0: none). */
  normGroups?: number;
  /** Dropout probability before the second convolution (default 0), active in training mode. */
  dropout?: number;
  /** Seed of that dropout's masks. */
  dropoutSeed?: number;
  rng?: Rng;
}

/**
 * y = skip(x) + conv2(drop(act(norm2(conv1(act(norm1(x))) + emb(e))))): the pre-activation residual
 * block of ResNets and diffusion UNets (the norms are GroupNorms when normGroups > 0, else absent).
 * conv2 starts at zero, so a new block is the identity (or the 1×1 skip) and deep stacks train from the start.
 */
export class ResidualBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly emb: Linear | null;
  readonly skip: Conv2d | null;
  readonly norm1: GroupNorm | null;
  readonly norm2: GroupNorm | null;
  readonly drop: Dropout | null;
  private readonly act: (x: Tensor) => Tensor;

  constructor(engine: Engine, readonly inChannels: number, opts: ResidualBlockOptions = {}) {
    super(engine);
    const out = opts.outChannels ?? inChannels, k = opts.kernelSize ?? 3;
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0) fail('ResidualBlock', `kernelSize = ${k} must be an odd positive integer`);
    const rng = opts.rng ?? defaultInitRng();
    this.act = opts.activation ?? relu;
    const groups = opts.normGroups ?? 0;
    this.norm1 = groups > 0 ? this.child('norm1', new GroupNorm(engine, groups, inChannels)) : null;
    this.conv1 = this.child('conv1', new Conv2d(engine, inChannels, out, k, { padding: 'same', rng }));
    this.emb = opts.embDim ? this.child('emb', new Linear(engine, opts.embDim, out, { rng })) : null;
    this.norm2 = groups > 0 ? this.child('norm2', new GroupNorm(engine, groups, out)) : null;
    this.drop = opts.dropout ? this.child('drop', new Dropout(engine, opts.dropout, opts.dropoutSeed ?? 0)) : null;
    this.conv2 = this.child('conv2', new Conv2d(engine, out, out, k, { padding: 'same', rng, weightInit: 'zeros', biasInit: 'zeros' }));
    this.skip = out !== inChannels ? this.child('skip', new Conv2d(engine, inChannels, out, 1, { rng })) : null;
  }

  /** x [N, in, H, W]; e [N, embDim] for a block built with embDim. */
  forward(x: Tensor, e?: Tensor): Tensor {
    let h = this.conv1.forward(this.act(this.norm1 ? this.norm1.forward(x) : x));
    if (this.emb) {
      if (!e) fail(this.path, `this block takes a conditioning vector [N, ${this.emb.inFeatures}]; none was given`);
      if (e.rank !== 2 || e.shape[0] !== x.shape[0]) fail(this.path, `conditioning ${shapeStr(e.shape)} must be [${x.shape[0]}, ${this.emb.inFeatures}]`);
      h = add(h, reshape(this.emb.forward(this.act(e)), [x.shape[0]!, this.conv1.outChannels, 1, 1]));
    } else if (e) fail(this.path, 'a conditioning vector was given but the block was built without embDim');
    h = this.act(this.norm2 ? this.norm2.forward(h) : h);
    h = this.conv2.forward(this.drop ? this.drop.forward(h) : h);
    return add(this.skip ? this.skip.forward(x) : x, h);
  }
}
