/**
 * What one replica computes on one shard of a batch. The same functions run on the calling thread
 * (its own shard) and inside every worker (the others), so a shard's result does not depend on
 * which thread ran it — the basis of data-parallel results that are bit-identical at any thread
 * count (docs/thread-scaling.md §6).
 */
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { FlowModel, type FlowModelConfig } from '../models/flow-model.js';
import type { PixelRange } from '../models/guards.js';
import { UNet } from '../models/unet/unet.js';
import type { UNetConfig } from '../models/unet/config.js';
import type { Module } from '../nn/module.js';
import { predictionTarget } from '../models/diffusion/prediction.js';
import { add, mul, square, sub, sum } from '../ops/index.js';

/** How a worker rebuilds the model it replicates (its weights follow as a state dict). */
export type ReplicaSpec =
  | { kind: 'flow-model'; config: FlowModelConfig }
  | { kind: 'unet'; config: UNetConfig & { condChannels: number } };

/** A host tensor inside a message: values and shape. */
export interface HostTensor { data: Float32Array; shape: number[] }

/** What a flow shard scores: log p(x) (or log p(x | y) with labels) per image, bits/dim per image, or log p(x, y) per image and class ([n, K]). */
export type FlowScore = 'logProb' | 'bitsPerDim' | 'classLogProbs';
export interface FlowScoreArgs { x: HostTensor; labels: number[] | null; range: PixelRange | undefined; score?: FlowScore }
export interface FlowDecodeArgs { z: HostTensor[]; labels: number[] | null; output: 'pixels' | 'flow' }
/** Σ over the shard of bits/dim, times `scale` (1 / the whole batch): shard gradients then add up to the batch mean's. */
export interface FlowGradArgs { x: HostTensor; labels: number[] | null; scale: number }
export interface UNetForwardArgs { x: HostTensor; t: number[]; labels: number[] | null; cond: HostTensor | null }
/**
 * Σ over the shard of the squared error between the UNet's output at x_t = √ᾱ x₀ + √(1−ᾱ) ε and the
 * target (ε, or v = √ᾱ ε − √(1−ᾱ) x₀), times `scale` (1 / the batch's value count).
 */
export interface UNetGradArgs { x0: HostTensor; noise: HostTensor; t: number[]; alphaBar: number[]; labels: number[] | null;
  cond: HostTensor | null; prediction: 'epsilon' | 'v'; scale: number }

export interface ProgramArgs {
  'flow.score': FlowScoreArgs;
  'flow.decode': FlowDecodeArgs;
  'flow.grads': FlowGradArgs;
  'unet.forward': UNetForwardArgs;
  'unet.grads': UNetGradArgs;
}
export type ProgramName = keyof ProgramArgs;

/** A shard's result: an output batch, or a loss with one gradient per parameter (in parameters() order). */
export interface ShardResult { out?: Float32Array; loss?: number; grads?: Float32Array[]; total?: number; /** Wall time of the shard on its thread. */ ms?: number }

export function replicaSpecOf(model: Module): ReplicaSpec {
  if (model instanceof FlowModel) return { kind: 'flow-model', config: model.config };
  if (model instanceof UNet) return { kind: 'unet', config: model.config };
  return fail('dataParallel', `replicates a FlowModel or a UNet, not a ${model.constructor.name}`);
}

export function buildReplica(engine: Engine, spec: ReplicaSpec): Module {
  if (spec.kind === 'flow-model') return new FlowModel(engine, spec.config.model, spec.config.architecture);
  if (spec.kind === 'unet') return new UNet(engine, spec.config);
  return fail('dataParallel', `unknown replica kind ${String((spec as { kind: unknown }).kind)}`);
}

const tensorOf = (engine: Engine, h: HostTensor): Tensor => engine.tensor(h.data, h.shape);

/** A tensor's values on the host; the tensor is freed. */
export async function readAndFree(t: Tensor): Promise<Float32Array> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

async function gradsOf(engine: Engine, model: Module, loss: () => Tensor): Promise<ShardResult> {
  const params = model.parameters();
  const { value, grads } = engine.valueAndGrads(loss, params.map((p) => p.value));
  const lossValue = await readAndFree(value);
  const out: Float32Array[] = [];
  for (const g of grads as Tensor[]) out.push(await readAndFree(g));
  return { loss: lossValue[0]!, grads: out };
}

type Program<K extends ProgramName> = (model: Module, args: ProgramArgs[K]) => Promise<ShardResult>;

const flow = (m: Module): FlowModel => m as FlowModel;
const unet = (m: Module): UNet => m as UNet;

export const PROGRAMS: { [K in ProgramName]: Program<K> } = {
  async 'flow.score'(m, a) {
    const model = flow(m), e = model.engine;
    await model.prepare();
    const range = a.range ? { range: a.range } : {}, opts = { ...(a.labels ? { labels: a.labels } : {}), ...range };
    const scored = e.noGrad(() => e.scope(() => {
      const x = tensorOf(e, a.x);
      if (a.score === 'classLogProbs') return model.classLogProbs(x, range);
      return a.score === 'bitsPerDim' ? model.bitsPerDim(x, opts) : model.logProb(x, opts);
    }));
    return { out: await readAndFree(scored) };
  },

  async 'flow.decode'(m, a) {
    const model = flow(m), e = model.engine;
    await model.prepare();
    const [out, total] = e.noGrad(() => e.scope(() => {
      const x = model.decode(a.z.map((z) => tensorOf(e, z)), a.labels ?? undefined);
      const probe = sum(x);
      return [a.output === 'flow' ? x : model.toPixels(x), probe];
    }));
    return { out: await readAndFree(out!), total: (await readAndFree(total!))[0]! };
  },

  async 'flow.grads'(m, a) {
    const model = flow(m), e = model.engine;
    await model.prepare();
    const labels = a.labels ? { labels: a.labels } : {};
    return gradsOf(e, model, () => mul(sum(model.bitsPerDim(tensorOf(e, a.x), { ...labels, range: 'pixels' })), a.scale));
  },

  async 'unet.forward'(m, a) {
    const model = unet(m), e = model.engine;
    const y = e.noGrad(() => e.scope(() => {
      const x = tensorOf(e, a.x), labels = a.labels ?? undefined;
      return a.cond ? model.forward(x, a.t, labels, tensorOf(e, a.cond)) : model.forward(x, a.t, labels);
    }));
    return { out: await readAndFree(y) };
  },

  async 'unet.grads'(m, a) {
    const model = unet(m), e = model.engine;
    const n = a.t.length, rank = a.x0.shape.length - 1, coefShape = [n, ...new Array<number>(rank).fill(1)];
    // Built exactly as the diffusion task builds them (float64 coefficients, the same ops), once per shard.
    const [xt, target] = e.noGrad(() => e.scope(() => {
      const x0 = tensorOf(e, a.x0), eps = tensorOf(e, a.noise);
      const ca = e.tensor(Float64Array.from(a.alphaBar, Math.sqrt), coefShape), cb = e.tensor(Float64Array.from(a.alphaBar, (ab) => Math.sqrt(1 - ab)), coefShape);
      return [add(mul(x0, ca), mul(eps, cb)), predictionTarget(a.prediction, x0, eps, ca, cb)];
    }));
    const cond = a.cond ? tensorOf(e, a.cond) : null;
    try {
      const labels = a.labels ?? undefined;
      return await gradsOf(e, model, () => mul(sum(square(sub(cond ? model.forward(xt!, a.t, labels, cond) : model.forward(xt!, a.t, labels), target!))), a.scale));
    } finally {
      for (const t of [xt, target, cond]) t?.dispose();
    }
  },
};

export function runProgram<K extends ProgramName>(model: Module, name: K, args: ProgramArgs[K]): Promise<ShardResult> {
  const program = PROGRAMS[name] as Program<K> | undefined;
  if (!program) fail('dataParallel', `unknown program ${String(name)}`);
  const t0 = performance.now();
  return program(model, args).then((r) => ({ ...r, ms: performance.now() - t0 }));
}
