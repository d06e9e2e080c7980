// One denoiser step of a bundled diffusion model's UNet, timed side by side: inflow (wasm 1 / all
// threads), tfjs-wasm and onnxruntime-node (1 / all threads) on the model file's own weights and the
// same input, outputs checked against inflow wasm 1 thread; inflow webgpu apart, on a batch sized
// for a software adapter, checked against wasm 1 thread on that batch.
import type { Engine } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import type { DiffusionModel } from '../src/models/diffusion/diffusion-model.js';
import type { UNet } from '../src/models/unet/unet.js';
import { timestepEmbedding } from '../src/nn/timestep.js';
import { relDiff, sig } from './lib/compare.js';
import { sideBySide, type Timing, type TimingPlan } from './lib/timing.js';
import { ortOptions, ortPeers } from './peers/onnx.js';
import { unetModel } from './peers/onnx-unet.js';
import type { HostWeights } from './peers/tfjs-flow.js';
import { TfjsUNet } from './peers/tfjs-unet.js';
import { nhwcToNchw, type loadOrt } from './perf/conv-stack.js';
import { nchwToNhwc, tf } from './tfjs.js';

type Ort = NonNullable<Awaited<ReturnType<typeof loadOrt>>['ort']>;

/** The timestep index of the step timed (any index costs the same; mid-schedule). */
const STEP_T = 500;

/**
 * What one sampler step feeds the UNet: n images at one timestep; with guidance (a
 * class-conditional model, guidance ≠ 0, 1) the n images twice, labelled then with the null label,
 * as src/models/diffusion/sampler.ts batches the two passes; an image-conditioned model's condition.
 */
export interface StepInput {
  images: number;
  x: Float32Array;
  shape: [number, number, number, number];
  t: number[];
  labels: number[] | null;
  cond: { data: Float32Array; shape: [number, number, number, number] } | null;
}

export function stepInput(model: DiffusionModel, n: number, guided: boolean, seed = 7): StepInput {
  const u = model.config.unet, side = u.imageSize, per = u.inChannels * side * side;
  const rng = new Rng(seed);
  const once = rng.normals(n * per, 1);
  const images = guided ? 2 * n : n;
  const x = new Float32Array(images * per);
  x.set(once);
  if (guided) x.set(once, n * per);
  const cls = model.classes;
  const labels = cls ? Array.from({ length: images }, (_, i) => (guided && i >= n ? cls : i % cls)) : null;
  const cc = u.condChannels ?? 0;
  const cond = cc ? { data: Float32Array.from(rng.uniforms(images * cc * side * side, -1, 1)), shape: [images, cc, side, side] as [number, number, number, number] } : null;
  return { images, x, shape: [images, u.inChannels, side, side], t: new Array<number>(images).fill(STEP_T), labels, cond };
}

export async function hostWeights(unet: UNet): Promise<HostWeights> {
  const w: HostWeights = new Map();
  for (const [name, p] of unet.namedParams()) w.set(name, { data: await p.value.data(), shape: [...p.shape] });
  return w;
}

/** inflow's UNet on `engine`: one guided-batch forward as the sampler runs it (no tape), the output read back. */
export function inflowStep(unet: UNet, s: StepInput): { call: () => Promise<Float32Array>; dispose: () => void } {
  const e: Engine = unet.engine;
  const x = e.tensor(s.x, s.shape).keep();
  const cond = s.cond ? e.tensor(s.cond.data, s.cond.shape).keep() : undefined;
  return {
    call: async () => {
      const y = e.noGrad(() => e.scope(() => unet.forward(x, s.t, s.labels ?? undefined, cond)));
      const out = await y.data();
      y.dispose();
      return out.slice(0, y.size);
    },
    dispose: () => { x.dispose(); cond?.dispose(); },
  };
}

export interface StepContender { id: string; label: string; threads: number; timing: Timing; relDiff: number | null }

/** The step on every CPU contender at once: inflow engines first (the first is the reference), then tfjs-wasm, then onnxruntime. */
export async function cpuStep(model: DiffusionModel, units: Array<{ id: string; label: string; threads: number; unet: UNet }>, s: StepInput,
  peers: { tfjsLabel: string; ort: Ort | null; ortVersion: string | null; threadsAll: number }, plan: TimingPlan): Promise<StepContender[]> {
  const config = model.unet.config, weights = await hostWeights(model.unet);
  const ids: string[] = [], labels: string[] = [], threads: number[] = [], calls: Array<() => Promise<Float32Array>> = [], cleanup: Array<() => unknown> = [];
  for (const u of units) {
    const step = inflowStep(u.unet, s);
    ids.push(u.id); labels.push(u.label); threads.push(u.threads); calls.push(step.call); cleanup.push(step.dispose);
  }
  const emb = await (async () => {
    const t = timestepEmbedding(units[0]!.unet.engine, s.t, config.baseChannels);
    const d = await t.data();
    t.dispose();
    return d.slice(0, s.images * config.baseChannels);
  })();
  const nhwc = (shape: readonly number[]) => [shape[0]!, shape[2]!, shape[3]!, shape[1]!] as [number, number, number, number];
  const tu = new TfjsUNet(config, weights, false);
  const tx = tf.tensor4d(nchwToNhwc(s.x, s.shape), nhwc(s.shape)), temb = tf.tensor2d(emb, [s.images, config.baseChannels]);
  const tl = s.labels ? tf.tensor1d(s.labels, 'int32') : undefined;
  const tc = s.cond ? tf.tensor4d(nchwToNhwc(s.cond.data, s.cond.shape), nhwc(s.cond.shape)) : undefined;
  const outShape = nhwc([s.images, config.outChannels, s.shape[2], s.shape[3]]);
  ids.push('tfjs'); labels.push(peers.tfjsLabel); threads.push(1);
  calls.push(async () => {
    const y = tf.tidy(() => tu.forward(tx, temb, tl, tc));
    const out = await y.data() as Float32Array;
    y.dispose();
    return nhwcToNchw(out, outShape);
  });
  cleanup.push(() => { tu.dispose(); tx.dispose(); temb.dispose(); tl?.dispose(); tc?.dispose(); });
  if (peers.ort) {
    const ort = peers.ort;
    const bytes = unetModel(config, s.images, weights);
    const feed: Record<string, InstanceType<Ort['Tensor']>> = {
      x: new ort.Tensor('float32', s.x, s.shape), temb: new ort.Tensor('float32', emb, [s.images, config.baseChannels]),
      ...(s.labels ? { labels: new ort.Tensor('int64', BigInt64Array.from(s.labels, BigInt), [s.images]) } : {}),
      ...(s.cond ? { cond: new ort.Tensor('float32', s.cond.data, s.cond.shape) } : {}),
    };
    for (const p of ortPeers(peers.ortVersion, peers.threadsAll)) {
      const session = await ort.InferenceSession.create(bytes, ortOptions(p.threads));
      ids.push(p.id); labels.push(p.label); threads.push(p.threads);
      calls.push(async () => (await session.run(feed)).y!.data as Float32Array);
      cleanup.push(() => session.release());
    }
  }
  try {
    const { timings, coldResults } = await sideBySide(calls, plan);
    const ref = coldResults[0] as Float32Array;
    return timings.map((t, i) => ({ id: ids[i]!, label: labels[i]!, threads: threads[i]!, timing: t,
      relDiff: i === 0 ? null : sig(relDiff(coldResults[i] as Float32Array, ref)) }));
  } finally {
    for (const c of cleanup) await c();
  }
}

/** The step on webgpu, checked against `reference` (wasm 1 thread) on the same input. */
export async function gpuStep(unet: UNet, reference: UNet, s: StepInput, label: string, plan: TimingPlan): Promise<StepContender> {
  const ref = inflowStep(reference, s), step = inflowStep(unet, s);
  try {
    const want = await ref.call();
    const { timings, coldResults } = await sideBySide([step.call], plan);
    return { id: 'webgpu', label, threads: 0, timing: timings[0]!, relDiff: sig(relDiff(coldResults[0] as Float32Array, want)) };
  } finally {
    ref.dispose();
    step.dispose();
  }
}
