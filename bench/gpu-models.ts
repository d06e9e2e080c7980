// The model sections of bench/gpu.ts, each on every contender (webgpu tiled, webgpu simple, wasm):
// one training step of the bundled diffusion model's UNet (forward + backward), DDIM sampling of
// that model (samples/s), and FInC sampling of 100 images at the papers' presets (docs/papers.md F1).
// Every call reads its result back, so a time covers the GPU's work; agreement is against wasm.
import { fileURLToPath } from 'node:url';
import { mean, models, square, sub, type Engine, type Tensor } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { loadModel } from '../src/io/model-file.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig } from '../src/models/diffusion/schema.js';
import type { FlowModel } from '../src/models/flow-model.js';
import { relDiff, sig } from './lib/compare.js';
import { timeGuarded, type Deadline } from './lib/deadline.js';
import { round3, type Timing, type TimingPlan } from './lib/timing.js';
import { unetData } from './unet-data.js';

export interface Contender { id: string; engine: Engine }

/** What every row has: the contender, its time (or why it was not timed), and its agreement with wasm. */
export interface Row { contender: string; timing: Timing | null; cut?: boolean; skipped?: string; relDiff?: number | null }

const file = (name: string) => fileURLToPath(new URL(`../models/${name}.safetensors`, import.meta.url));

/** The papers' seconds for sampling 100 images on a GPU (docs/papers.md §1, F1). */
export const PAPER_S100: Record<string, number> = { mnist: 0.09, cifar10: 0.41 };

/** An 8×8 class-conditional model for --smoke: the bundled one's UNet is minutes per step on SwiftShader. */
const TINY_DIFFUSION: DiffusionModelConfig = {
  kind: 'diffusion-model',
  unet: { kind: 'unet', imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [4], heads: 2, groups: 4, dropout: 0, classes: 10 },
  schedule: { kind: 'linear', steps: 1000 },
  sampler: { method: 'ddim', steps: 2, eta: 0, guidance: 2 },
};

/**
 * The bundled generator, or for --smoke the tiny one with every weight drawn from one seed: a fresh
 * UNet's output convolution is zero, and samples that ignore the UNet would agree with wasm trivially.
 */
async function diffusionOn(engine: Engine, smoke: boolean): Promise<DiffusionModel> {
  if (!smoke) return loadDiffusionModel(file('diffusion-mnist'), { engine });
  const m = new DiffusionModel(engine, TINY_DIFFUSION, { seed: 1 }), rng = new Rng(3);
  const state = new Map<string, { shape: number[]; data: Float32Array }>();
  // Small values, as bench/unet.ts does: large ones saturate the samples' clipping and any kernels agree.
  for (const [name, p] of m.unet.namedParams()) {
    const d = await p.value.data();
    if (d.every((v) => v === 0)) state.set(name, { shape: [...p.shape], data: rng.uniforms(d.length, -0.05, 0.05) });
  }
  m.unet.loadStateDict(state, { strict: false });
  return m;
}

async function readAndDispose(t: Tensor): Promise<Float32Array> {
  const v = await t.data();
  t.dispose();
  return v;
}

/**
 * Times `call(contender)` on every contender in turn (webgpu first: if the budget runs out, the GPU
 * rows are the ones a GPU run is for), then each one's agreement with the wasm contender's cold result.
 */
async function overContenders(contenders: readonly Contender[], plan: TimingPlan, deadline: Deadline,
  call: (c: Contender) => Promise<{ run: () => Promise<Float32Array>; dispose: () => void }>): Promise<Row[]> {
  const rows: Row[] = [], results = new Map<string, Float32Array>();
  for (const c of contenders) {
    if (deadline.passed()) { rows.push({ contender: c.id, timing: null, skipped: 'time guard' }); continue; }
    const { run, dispose } = await call(c);
    try {
      const g = await timeGuarded(run, plan, deadline);
      if ('skipped' in g) rows.push({ contender: c.id, timing: null, skipped: g.skipped });
      else { rows.push({ contender: c.id, timing: g.timing, ...(g.cut ? { cut: true } : {}) }); results.set(c.id, g.cold); }
    } finally {
      dispose();
    }
  }
  const want = results.get('wasm');
  for (const r of rows) {
    const got = results.get(r.contender);
    // Different batch sizes draw different noise: such results are not compared.
    r.relDiff = want && got && r.contender !== 'wasm' && got.length === want.length ? sig(relDiff(got, want), 2) : null;
  }
  return rows;
}

/**
 * One training step's forward and backward (no optimiser step) of the bundled diffusion model's UNet
 * on its own weights: the ε-loss of tests/models/unet.test.ts, class labels as the sampler gives
 * them. The result compared is the loss followed by every gradient.
 */
export async function unetStep(contenders: readonly Contender[], o: { smoke: boolean; batch: number; plan: TimingPlan; deadline: Deadline }) {
  let config: DiffusionModel['unet']['config'] | null = null, params = 0;
  const rows = await overContenders(contenders, o.plan, o.deadline, async (c) => {
    const m = await diffusionOn(c.engine, o.smoke), u = m.unet, e = c.engine;
    config = u.config;
    params = u.paramCount();
    const d = unetData(u.config, o.batch);
    const x = e.tensor(d.x, d.shape).keep(), eps = e.tensor(d.eps, d.shape).keep();
    const labels = m.classes ? d.t.map((_, i) => i % m.classes!) : undefined;
    const run = async () => {
      const ps = u.parameters().map((p) => p.value);
      const { value, grads } = e.valueAndGrads(() => mean(square(sub(u.forward(x, d.t, labels), eps))), ps);
      const parts = await Promise.all([value, ...grads].map(readAndDispose));
      const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      return out;
    };
    return { run, dispose: () => { x.dispose(); eps.dispose(); m.dispose(); } };
  });
  const c = config as DiffusionModel['unet']['config'] | null;
  return {
    model: o.smoke ? 'tiny 8×8 (smoke)' : 'diffusion-mnist', batch: o.batch, params,
    config: c ? `${c.inChannels}×${c.imageSize}×${c.imageSize}, base ${c.baseChannels} × [${c.channelMults.join(', ')}], attention at ${c.attentionResolutions.join(', ')}` : null,
    rows: rows.map((r) => ({ ...r, imagesPerSecond: r.timing ? sig((o.batch * 1000) / r.timing.medianMs, 4) : null })),
  };
}

/** DDIM sampling of the bundled generator at its file's defaults (50 steps, guidance 2), `batch` images. */
export async function diffusionSampling(contenders: readonly Contender[], o: { smoke: boolean; batch: number; plan: TimingPlan; deadline: Deadline }) {
  let steps = 0, guidance = 0;
  const rows = await overContenders(contenders, o.plan, o.deadline, async (c) => {
    const m = await diffusionOn(c.engine, o.smoke);
    steps = m.config.sampler.steps;
    guidance = m.config.sampler.guidance;
    // 'data': the samples before the pixel clamp, so agreement is judged on the values themselves.
    return { run: async () => readAndDispose(await m.sample(o.batch, { seed: 0, output: 'data' })), dispose: () => m.dispose() };
  });
  return {
    model: o.smoke ? 'tiny 8×8 (smoke)' : 'diffusion-mnist', method: 'ddim', steps, guidance, batch: o.batch,
    rows: rows.map((r) => ({ ...r, samplesPerSecond: r.timing ? sig((o.batch * 1000) / r.timing.medianMs, 4) : null })),
  };
}

/** The bundled trained flow (a small MNIST model, not the paper's preset). */
export const BUNDLED = 'finc-mnist';

/**
 * FInC sampling of `batch` images (default temperature) per preset: BUNDLED is the bundled trained
 * file, 'mnist' and 'cifar10' the papers' architectures with fresh weights (the time does not depend
 * on the weights), 'tiny' the smoke run's.
 */
export async function fincSampling(contenders: readonly Contender[],
  o: { presets: string[]; batch: number; wasmBatch?: Record<string, number>; plan: TimingPlan; deadline: Deadline }) {
  const out = [];
  for (const preset of o.presets) {
    let params = 0;
    const models_ = new Map<string, FlowModel>();
    for (const c of contenders) {
      if (o.deadline.passed()) break;
      const m = preset === BUNDLED ? await loadModel(file(BUNDLED), { engine: c.engine }) : models.fincFlow(preset, { engine: c.engine, seed: 0 });
      if (preset !== BUNDLED) m.markInitialized();
      models_.set(c.id, m);
      params = m.paramCount();
    }
    // wasm's 4 GiB memory does not hold a 100-image sampling of these presets (bench/sampling.ts
    // scales down the same way): it samples fewer, its time is scaled to 100, and the samples are
    // not compared (the correctness section compares a flow's samples).
    const batchOf = (id: string) => (id === 'wasm' ? Math.min(o.batch, o.wasmBatch?.[preset] ?? o.batch) : o.batch);
    const rows = await overContenders(contenders, o.plan, o.deadline, async (c) => {
      const m = models_.get(c.id), n = batchOf(c.id);
      // Disposed below, with those the time guard left unrun.
      return { run: async () => (m ? readAndDispose(await m.sample(n, { seed: 1 })) : new Float32Array()), dispose: () => {} };
    });
    for (const m of models_.values()) m.dispose();
    out.push({
      preset, source: preset === BUNDLED ? `models/${BUNDLED}.safetensors` : PAPER_S100[preset] ? 'paper preset, fresh weights' : 'fresh weights', params, batch: o.batch,
      rows: rows.map((r) => {
        const n = batchOf(r.contender);
        return { ...r, batch: n, secondsPer100: r.timing ? round3((r.timing.medianMs / 1000) * (100 / n)) : null };
      }),
      paperSecondsPer100: PAPER_S100[preset] ?? null, paperSource: 'F1 (GPU), docs/papers.md §1',
    });
  }
  return out;
}
