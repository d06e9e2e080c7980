// The bundled diffusion models' end-to-end calls on inflow, timed side by side across engines:
// DiffusionModel.sample (samples/s), the latent SR files' autoencoders (encode, decode) and `upscale`
// with each ×4 super-resolution model. Every output is checked against the first engine's
// (wasm, 1 thread) on the same input.
import type { Engine, Tensor } from '../src/index.js';
import { mnistSplit } from '../src/data/mnist.js';
import type { ImageBatch } from '../src/image/batch.js';
import { datasetBatch } from '../src/image/range.js';
import type { Autoencoder } from '../src/models/autoencoder/autoencoder-bytes.js';
import type { DiffusionModel } from '../src/models/diffusion/diffusion-model.js';
import { lowResolutionFor, upscale, type PixelImages } from '../src/models/diffusion/pipelines.js';
import { relDiff, sig } from './lib/compare.js';
import { sideBySide, type Timing, type TimingPlan } from './lib/timing.js';

/** An engine the section runs on. */
export interface Slot { id: string; label: string; threads: number; engine: Engine }

export interface Timed { id: string; label: string; threads: number; timing: Timing; relDiff: number | null }

/** The first n digits of MNIST's fixed held-out split (src/data/mnist.ts), [n, 1, 28, 28] in [−1, 1]. */
export function heldOutDigits(n: number): ImageBatch {
  return datasetBatch(mnistSplit().test, [...Array(n).keys()]);
}

async function readAndDispose(t: Tensor): Promise<Float32Array> {
  try {
    return (await t.data()).slice(0, t.size);
  } finally {
    t.dispose();
  }
}

/** Times the contenders' calls side by side; Δ of each output against the first contender's. */
async function timeAll(contenders: Array<Omit<Timed, 'timing' | 'relDiff'> & { call: () => Promise<Float32Array> }>, plan: TimingPlan): Promise<Timed[]> {
  const { timings, coldResults } = await sideBySide(contenders.map((c) => c.call), plan);
  const ref = coldResults[0] as Float32Array;
  return timings.map((t, i) => ({ id: contenders[i]!.id, label: contenders[i]!.label, threads: contenders[i]!.threads, timing: t,
    relDiff: i === 0 ? null : sig(relDiff(coldResults[i] as Float32Array, ref)) }));
}

/** n samples with the file's sampler defaults (steps overridable), seed 0, on each engine's copy of the model. */
export async function timeSampling(runs: Array<{ slot: Slot; model: DiffusionModel }>, n: number, steps: number, plan: TimingPlan): Promise<Timed[]> {
  return timeAll(runs.map(({ slot, model }) => ({ ...slotFacts(slot), call: async () => readAndDispose(await model.sample(n, { steps, seed: 0 })) })), plan);
}

export interface AutoencoderRun { name: string; slot: Slot; ae: Autoencoder }

/**
 * encode(x) and decode(z) of each autoencoder on each engine, every contender in one alternating
 * round per operation. x: the held-out digits; z: the first contender's encoding of them for
 * each autoencoder. Δ is against that autoencoder's first contender (wasm, 1 thread).
 */
export async function timeAutoencoders(runs: AutoencoderRun[], images: ImageBatch, plan: TimingPlan): Promise<{ encode: Array<Timed & { name: string }>; decode: Array<Timed & { name: string }> }> {
  const kept: Tensor[] = [];
  const first = new Map<string, { z: Float32Array; zShape: number[] }>();
  for (const r of runs) {
    await r.ae.prepare();
    if (first.has(r.name)) continue;
    const x = r.slot.engine.tensor(images.data, images.shape);
    const z = r.slot.engine.noGrad(() => r.ae.encode(x));
    x.dispose();
    const zShape = [...z.shape];
    first.set(r.name, { z: await readAndDispose(z), zShape });
  }
  const call = (r: AutoencoderRun, op: 'encode' | 'decode') => {
    const e = r.slot.engine, f = first.get(r.name)!;
    const input = op === 'encode' ? e.tensor(images.data, images.shape).keep() : e.tensor(f.z, f.zShape).keep();
    kept.push(input);
    return async () => readAndDispose(e.noGrad(() => (op === 'encode' ? r.ae.encode(input) : r.ae.decode(input))));
  };
  const byName = async (op: 'encode' | 'decode') => {
    const out: Array<Timed & { name: string }> = [];
    const names = [...new Set(runs.map((r) => r.name))];
    // One round over every contender; Δ per autoencoder against its own first contender.
    const all = runs.map((r) => ({ ...slotFacts(r.slot), call: call(r, op) }));
    const { timings, coldResults } = await sideBySide(all.map((c) => c.call), plan);
    for (const name of names) {
      const idx = runs.flatMap((r, i) => (r.name === name ? [i] : []));
      const ref = coldResults[idx[0]!] as Float32Array;
      for (const i of idx)
        out.push({ name, ...slotFacts(runs[i]!.slot), timing: timings[i]!, relDiff: i === idx[0] ? null : sig(relDiff(coldResults[i] as Float32Array, ref)) });
    }
    return out;
  };
  try {
    return { encode: await byName('encode'), decode: await byName('decode') };
  } finally {
    for (const t of kept) t.dispose();
  }
}

/** The held-out digits' low-resolution images as the SR model's trainer made them (lowResolutionFor), 0…255 pixels. */
export function lowResolutionDigits(model: DiffusionModel, hr: ImageBatch): PixelImages {
  const pixels = Float32Array.from(hr.data, (v) => Math.min(255, Math.max(0, Math.round((v + 1) * 127.5))));
  return lowResolutionFor(model, { data: pixels, shape: hr.shape });
}

export interface SrRun { name: string; slot: Slot; model: DiffusionModel }

/** `upscale` of the same low-resolution images with each SR model on each engine (the file's sampler, `steps` overridable, seed 0). */
export async function timeUpscale(runs: SrRun[], hr: ImageBatch, steps: number | undefined, plan: TimingPlan): Promise<Array<Timed & { name: string }>> {
  const contenders = runs.map((r) => {
    const lr = lowResolutionDigits(r.model, hr);
    return { ...slotFacts(r.slot), call: async () => (await upscale(r.model, lr, { seed: 0, ...(steps ? { steps } : {}) })).data };
  });
  const { timings, coldResults } = await sideBySide(contenders.map((c) => c.call), plan);
  return runs.map((r, i) => {
    const j = runs.findIndex((q) => q.name === r.name);
    return { name: r.name, ...slotFacts(r.slot), timing: timings[i]!, relDiff: i === j ? null : sig(relDiff(coldResults[i] as Float32Array, coldResults[j] as Float32Array)) };
  });
}

const slotFacts = (s: Slot) => ({ id: s.id, label: s.label, threads: s.threads });
