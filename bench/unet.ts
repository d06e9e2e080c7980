// `unet` suite: the diffusion UNet of src/models/unet (the 3.6 M-parameter test config at 32×32,
// batch 16). Training step (ε-loss, forward + backward + Adam) on inflow wasm, 1 and all threads,
// against the same UNet in tfjs; forward against tfjs-wasm and onnxruntime-node; all on the same
// weights, outputs checked against inflow's. WebGPU (software here) on a config sized to fit.
import { createEngine, type Engine } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import type { UNetConfig } from '../src/models/unet/config.js';
import { UNet } from '../src/models/unet/unet.js';
import { timestepEmbedding } from '../src/nn/timestep.js';
import { Optimizer } from '../src/train/optimizer.js';
import { relDiff, sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { sideBySide, type Timing, type TimingPlan } from './lib/timing.js';
import { tfjsAndInflowContenders } from './ops.js';
import { ortOptions, ortPeers } from './peers/onnx.js';
import { unetModel } from './peers/onnx-unet.js';
import type { HostWeights } from './peers/tfjs-flow.js';
import { TfjsUNet, tfjsUNetTrainStep } from './peers/tfjs-unet.js';
import { loadOrt, nhwcToNchw } from './perf/conv-stack.js';
import { nchwToNhwc, tf } from './tfjs.js';
import { CONFIG, inflowTrainStep, unetData } from './unet-data.js';

const BATCH = { full: 16, quick: 4 };
/** The UNet test's small WebGPU config, used when the big one would take over a minute per step there. */
const SMALL: Partial<UNetConfig> = { imageSize: 16, inChannels: 1, outChannels: 1, baseChannels: 16, channelMults: [1, 2], groups: 8, heads: 2, attentionResolutions: [8], resBlocks: 1 };
const SMALL_BATCH = 2;
const GPU_STEP_LIMIT_S = 60;

const PLANS: Record<'forward' | 'train' | 'gpu' | 'quick', TimingPlan> = {
  forward: { warmup: 1, reps: 3, minReps: 2, budgetMs: 8000 },
  /** A tfjs step takes tens of seconds: the cold step, then one or two timed ones. */
  train: { warmup: 0, reps: 2, minReps: 1, budgetMs: 60000 },
  gpu: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};

interface Contender { id: string; label: string; threads: number; timing: Timing; imagesPerSecond: number; relDiff: number | null; firstLoss?: number }
interface Task { task: 'forward' | 'train'; config: string; params: number; batch: number; flops: number; contenders: Contender[]; notes: string[] }

/**
 * inflow's UNet with the zero-initialised layers (each block's second conv, attention projections,
 * the output conv) filled with small noise, otherwise every block is the identity and the output is
 * zero, and the agreement checks would compare nothing; the same weights as host arrays by name.
 */
async function weightsOf(engine: Engine, config: Partial<UNetConfig>): Promise<{ config: UNetConfig; weights: HostWeights; params: number }> {
  const u = new UNet(engine, config, { seed: 1 });
  const rng = new Rng(3);
  const weights: HostWeights = new Map();
  for (const [name, p] of u.namedParams()) {
    let d = await p.value.data();
    if (d.every((v) => v === 0)) d = rng.uniforms(d.length, -0.05, 0.05);
    weights.set(name, { data: d, shape: [...p.shape] });
  }
  const out = { config: u.config, weights, params: u.paramCount() };
  u.dispose();
  return out;
}

function unetWith(engine: Engine, config: UNetConfig, weights: HostWeights): UNet {
  const u = new UNet(engine, config, { seed: 1 });
  u.loadStateDict(new Map([...weights].map(([k, v]) => [k, { shape: v.shape, data: v.data }])));
  return u;
}

const ips = (batch: number, ms: number) => sig((batch * 1000) / ms, 4);
export const cfgName = (c: UNetConfig, params: number) =>
  `${c.inChannels}×${c.imageSize}×${c.imageSize}, base ${c.baseChannels} × [${c.channelMults.join(', ')}], ${c.resBlocks} res blocks, attention at ${c.attentionResolutions.join(', ')}, ${c.heads} heads, GroupNorm ${c.groups}: ${(params / 1e6).toFixed(2)} M parameters`;

/**
 * Multiply-adds × 2 of one image's forward pass: convolutions, linears and the two attention matmuls,
 * walked in the construction order of src/models/unet/unet.ts (norms and elementwise ops are left out).
 * A training step is counted as 3 forwards (forward, input gradient, weight gradient).
 */
export function unetForwardFlops(c: UNetConfig): number {
  const base = c.baseChannels, embDim = 4 * base;
  let f = 2 * (base * embDim + embDim * embDim);
  const conv = (ci: number, co: number, k: number, s: number) => { f += 2 * ci * co * k * k * s * s; };
  const res = (ci: number, co: number, s: number) => { conv(ci, co, 3, s); f += 2 * embDim * co; conv(co, co, 3, s); if (ci !== co) conv(ci, co, 1, s); };
  const attn = (C: number, s: number) => { conv(C, C, 1, s); conv(C, 2 * C, 1, s); conv(C, C, 1, s); f += 4 * s ** 4 * C; };
  conv(c.inChannels + (c.condChannels ?? 0), base, 3, c.imageSize);
  const saved = [base];
  let ch = base, size = c.imageSize;
  c.channelMults.forEach((mult, level) => {
    for (let b = 0; b < c.resBlocks; b++) {
      res(ch, base * mult, size);
      ch = base * mult;
      if (c.attentionResolutions.includes(size)) attn(ch, size);
      saved.push(ch);
    }
    if (level < c.channelMults.length - 1) { size /= 2; conv(ch, ch, 3, size); saved.push(ch); }
  });
  res(ch, ch, size); attn(ch, size); res(ch, ch, size);
  [...c.channelMults].reverse().forEach((mult, i) => {
    for (let b = 0; b <= c.resBlocks; b++) {
      res(ch + saved.pop()!, base * mult, size);
      ch = base * mult;
      if (c.attentionResolutions.includes(size)) attn(ch, size);
    }
    if (c.channelMults.length - 1 - i > 0) { size *= 2; conv(ch, ch, 3, size); }
  });
  conv(ch, c.outChannels, 3, size);
  return f;
}

export const unetBench: Suite = {
  name: 'unet',
  about: 'diffusion UNet (3.6 M params, 32×32, batch 16): training step on inflow wasm 1 / all threads vs the same UNet in tfjs; forward vs tfjs-wasm and onnxruntime-node; webgpu (software) sized to fit',
  async run(ctx: SuiteContext) {
    const q = ctx.quick, batch = q ? BATCH.quick : BATCH.full;
    const { ort, why: ortMissing, version: ortVersion } = await loadOrt();
    const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
    const engines = contenders.filter((c): c is typeof c & { engine: Engine } => !!c.engine);
    const tfjsLabel = contenders.find((c) => c.id === 'tfjs')!.label;
    const { config, weights, params } = await weightsOf(engines[0]!.engine, CONFIG);
    const d = unetData(config, batch);
    const emb = await timestepEmbedding(engines[0]!.engine, d.t, config.baseChannels).data();
    const nhwc = [batch, config.imageSize, config.imageSize, config.inChannels] as [number, number, number, number];
    const tasks: Task[] = [];

    // ---- forward: inflow wasm 1 / all threads, tfjs-wasm, onnxruntime 1 / all threads
    {
      process.stderr.write(`unet: forward, batch ${batch}\n`);
      const ids: string[] = [], labels: string[] = [], threads: number[] = [], calls: Array<() => Promise<Float32Array>> = [], cleanup: Array<() => unknown> = [];
      for (const e of engines) {
        const u = unetWith(e.engine, config, weights);
        const x = e.engine.tensor(d.x, d.shape).keep();
        ids.push(e.id); labels.push(e.label); threads.push(e.threads);
        calls.push(async () => {
          const y = e.engine.scope(() => u.forward(x, d.t));
          const out = await y.data();
          y.dispose();
          return out;
        });
        cleanup.push(() => { u.dispose(); x.dispose(); });
      }
      const tu = new TfjsUNet(config, weights, false);
      const tx = tf.tensor4d(nchwToNhwc(d.x, d.shape), nhwc), temb = tf.tensor2d(emb, [batch, config.baseChannels]);
      ids.push('tfjs'); labels.push(tfjsLabel); threads.push(1);
      calls.push(async () => {
        const y = tf.tidy(() => tu.forward(tx, temb));
        const out = await y.data() as Float32Array;
        y.dispose();
        return nhwcToNchw(out, nhwc);
      });
      cleanup.push(() => { tu.dispose(); tx.dispose(); temb.dispose(); });
      if (ort) {
        const model = unetModel(config, batch, weights);
        for (const p of ortPeers(ortVersion, ctx.threadsAll)) {
          const session = await ort.InferenceSession.create(model, ortOptions(p.threads));
          const feed = { x: new ort.Tensor('float32', d.x, d.shape), temb: new ort.Tensor('float32', emb, [batch, config.baseChannels]) };
          ids.push(p.id); labels.push(p.label); threads.push(p.threads);
          calls.push(async () => (await session.run(feed)).y!.data as Float32Array);
          cleanup.push(() => session.release());
        }
      } else notes.push(`onnxruntime-node did not load: ${ortMissing}`);
      const { timings, coldResults } = await sideBySide(calls, q ? PLANS.quick : PLANS.forward);
      const ref = coldResults[0] as Float32Array;
      tasks.push({
        task: 'forward', config: cfgName(config, params), params, batch, flops: unetForwardFlops(config) * batch, notes: [],
        contenders: timings.map((t, i) => ({ id: ids[i]!, label: labels[i]!, threads: threads[i]!, timing: t, imagesPerSecond: ips(batch, t.medianMs),
          relDiff: i === 0 ? null : sig(relDiff(coldResults[i] as Float32Array, ref)) })),
      });
      for (const c of cleanup) await c();
      ctx.peak.sample(1);
    }

    // ---- training step: inflow wasm 1 / all threads vs tfjs-wasm (with a filter gradient it lacks)
    {
      process.stderr.write(`unet: training step, batch ${batch}\n`);
      const ids: string[] = [], labels: string[] = [], threads: number[] = [], losses: number[][] = [], calls: Array<() => Promise<unknown>> = [], cleanup: Array<() => void> = [];
      for (const e of engines) {
        const u = unetWith(e.engine, config, weights);
        const x = e.engine.tensor(d.x, d.shape).keep(), eps = e.engine.tensor(d.eps, d.shape).keep();
        const opt = new Optimizer(e.engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
        const l: number[] = [];
        ids.push(e.id); labels.push(e.label); threads.push(e.threads); losses.push(l);
        calls.push(async () => l.push(await inflowTrainStep(u, opt, x, d.t, eps)));
        cleanup.push(() => { opt.dispose(); u.dispose(); x.dispose(); eps.dispose(); });
      }
      const tu = new TfjsUNet(config, weights, true);
      const tx = tf.tensor4d(nchwToNhwc(d.x, d.shape), nhwc), te = tf.tensor4d(nchwToNhwc(d.eps, d.shape), nhwc);
      const temb = tf.tensor2d(emb, [batch, config.baseChannels]);
      const tOpt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
      const l: number[] = [];
      ids.push('tfjs'); labels.push('tfjs-wasm 4.22, conv filter gradient as a dilated tf.conv2d (tfjs-wasm has no Conv2DBackpropFilter)'); threads.push(1); losses.push(l);
      calls.push(async () => l.push(tfjsUNetTrainStep(tu, tOpt, tx, temb, te)));
      cleanup.push(() => { tOpt.dispose(); tu.dispose(); tx.dispose(); te.dispose(); temb.dispose(); });
      const { timings } = await sideBySide(calls, q ? PLANS.quick : PLANS.train);
      for (const c of cleanup) c();
      const first = losses.map((x) => x[0]!);
      tasks.push({
        task: 'train', config: cfgName(config, params), params, batch, flops: 3 * unetForwardFlops(config) * batch,
        notes: [`losses per step: ${ids.map((id, i) => `${id} ${losses[i]!.map((v) => v.toFixed(4)).join(' ')}`).join('; ')}`],
        contenders: timings.map((t, i) => ({ id: ids[i]!, label: labels[i]!, threads: threads[i]!, timing: t, imagesPerSecond: ips(batch, t.medianMs),
          relDiff: i === 0 ? null : sig(Math.abs(first[i]! - first[0]!) / Math.abs(first[0]!)), firstLoss: sig(first[i]!, 6) })),
      });
      ctx.peak.sample(1);
    }
    for (const e of engines) e.engine.dispose();

    const gpu = await gpuTasks(config, weights, params, batch, q);
    tasks.push(...gpu.tasks);
    notes.push(...gpu.notes);

    const ratios = unetRatios(tasks);
    return {
      tables: [unetTable(tasks, ratios, ctx.peak.gflopsPerCore), ...(notes.length ? [{ title: 'unet notes', header: ['note'], rows: notes.map((n) => [n]) }] : [])],
      data: {
        config, params, batch, forwardFlopsPerImage: unetForwardFlops(config), loss: 'mean((UNet(x_t, t) − ε)²), Adam lr 1e-3',
        peers: { tfjs: tfjsFacts, onnxruntime: ort ? { version: ortVersion } : { missing: ortMissing } },
        tasks, ratios, notes,
      },
    };
  },
};

/** inflow's WebGPU engine (a software adapter allowed) and its table label, which says SOFTWARE when it is one; or why there is none. */
export async function webgpuEngine(): Promise<{ engine: Engine; label: string; software: boolean } | { why: string }> {
  let engine: Engine;
  try {
    engine = await createEngine({ backend: 'webgpu', allowSoftwareGPU: true });
  } catch (e) {
    return { why: `webgpu: no adapter (${(e as Error).message.split('\n')[0]})` };
  }
  const info = engine.info();
  const a = (info.details.adapter ?? {}) as Record<string, unknown>;
  const software = !!info.details.software;
  const label = `inflow webgpu (${[a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'adapter'}${software ? ': SOFTWARE adapter on the CPU, not a GPU' : ''})`;
  return { engine, label, software };
}

/**
 * inflow on WebGPU. The UNet test's small config is timed first; its forward rate (GFLOP/s) says what
 * a training step of the big config would cost there (3 forwards' worth of FLOPs). Only if that is
 * under GPU_STEP_LIMIT_S is the big config timed too: SwiftShader runs ≈ 0.3 GFLOP/s.
 */
async function gpuTasks(config: UNetConfig, weights: HostWeights, params: number, batch: number, quick: boolean): Promise<{ tasks: Task[]; notes: string[] }> {
  const gpu = await webgpuEngine();
  if ('why' in gpu) return { tasks: [], notes: [gpu.why] };
  const { engine, label } = gpu;
  const plan = quick ? PLANS.quick : PLANS.gpu;
  const tasks: Task[] = [], notes: string[] = [];
  const time = async (cfg: UNetConfig, w: HostWeights, p: number, b: number) => {
    process.stderr.write(`unet: webgpu forward and training step, ${(p / 1e6).toFixed(2)} M parameters, batch ${b}\n`);
    const d = unetData(cfg, b);
    const u = unetWith(engine, cfg, w);
    const x = engine.tensor(d.x, d.shape), eps = engine.tensor(d.eps, d.shape);
    const opt = new Optimizer(engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const fwd = await sideBySide([async () => { const y = engine.scope(() => u.forward(x, d.t)); await y.data(); y.dispose(); }], plan);
    const losses: number[] = [];
    const train = await sideBySide([async () => losses.push(await inflowTrainStep(u, opt, x, d.t, eps))], plan);
    opt.dispose(); u.dispose(); x.dispose(); eps.dispose();
    const flops = unetForwardFlops(cfg) * b;
    const one = (task: 'forward' | 'train', t: Timing): Task => ({
      task, config: cfgName(cfg, p), params: p, batch: b, flops: task === 'train' ? 3 * flops : flops,
      notes: task === 'train' ? [`webgpu losses (${(p / 1e6).toFixed(2)} M): ${losses.map((l) => l.toFixed(4)).join(' ')}`] : [],
      contenders: [{ id: 'webgpu', label, threads: 0, timing: t, imagesPerSecond: ips(b, t.medianMs), relDiff: null }],
    });
    tasks.push(one('forward', fwd.timings[0]!), one('train', train.timings[0]!));
    return fwd.timings[0]!.medianMs;
  };
  const small = await weightsOf(engine, SMALL);
  const smallMs = await time(small.config, small.weights, small.params, SMALL_BATCH);
  const rate = (unetForwardFlops(small.config) * SMALL_BATCH) / smallMs / 1e6;
  const estimate = (3 * unetForwardFlops(config) * batch) / rate / 1e9;
  if (estimate > GPU_STEP_LIMIT_S)
    notes.push(`webgpu: the small config's forward ran at ${rate.toPrecision(2)} GFLOP/s, so a batch-${batch} training step of the ${(params / 1e6).toFixed(2)} M config would take ≈ ${estimate.toFixed(0)} s (> ${GPU_STEP_LIMIT_S} s): only the small config (the UNet test's WebGPU one) is timed`);
  else await time(config, weights, params, batch);
  engine.dispose();
  return { tasks, notes };
}

/** Ratios > 1: inflow faster. */
function unetRatios(tasks: Task[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const t of tasks) {
    const ms = (id: string) => t.contenders.find((c) => c.id === id)?.timing.medianMs ?? null;
    const r = (a: string, b: string) => { const x = ms(a), y = ms(b); return x && y ? sig(y / x, 3) : null; };
    if (!t.contenders.some((c) => c.id === 'wasm1')) continue;
    out[`${t.task}_wasm1_over_tfjs`] = r('wasm1', 'tfjs');
    out[`${t.task}_wasmN_over_tfjs`] = r('wasmN', 'tfjs');
    out[`${t.task}_wasmN_over_wasm1`] = r('wasmN', 'wasm1');
    if (t.task === 'forward') {
      out.forward_wasm1_over_ort1 = r('wasm1', 'ort1');
      out.forward_wasmN_over_ortN = r('wasmN', 'ortN');
    }
  }
  return out;
}

function unetTable(tasks: Task[], ratios: Record<string, number | null>, peak: number): Table {
  return {
    title: `diffusion UNet: warm median ms per call, images/s, GFLOP/s (% of ${peak} GFLOP/s per core × threads), ÷ tfjs = tfjs ms / this ms (> 1: faster than tfjs), Δ = agreement with inflow wasm 1 thread`,
    header: ['task', 'batch', 'contender', 'cold ms', 'warm ms', 'images/s', 'GF/s', '%pk', '÷ tfjs', 'Δ', 'reps'],
    rows: tasks.flatMap((t) => {
      const tf = t.contenders.find((c) => c.id === 'tfjs');
      return t.contenders.map((c) => {
        const gf = t.flops / c.timing.medianMs / 1e6;
        return [`${t.task} (${(t.params / 1e6).toFixed(2)} M)`, t.batch, c.label, c.timing.coldMs, c.timing.medianMs, c.imagesPerSecond, sig(gf, 3),
          c.threads ? sig((100 * gf) / (peak * c.threads), 3) : null, tf ? sig(tf.timing.medianMs / c.timing.medianMs, 3) : null,
          c.relDiff === null ? null : c.relDiff.toExponential(1), String(c.timing.samplesMs.length)];
      });
    }),
    notes: [
      ...[...new Set(tasks.map((t) => `${(t.params / 1e6).toFixed(2)} M: ${t.config}; forward ${(t.flops / t.batch / (t.task === 'train' ? 3 : 1) / 1e9).toFixed(2)} GFLOP per image (conv, linear, attention), a training step counted as 3 forwards`))],
      '%pk is against the wasm f32x4 peak: onnxruntime is native code (AVX2/AVX-512 FMA) and can pass 100 %',
      'forward Δ: max |Δ| / max |y| against inflow wasm 1 thread on the same weights and input; train Δ: relative difference of the first step\'s loss (same weights, same data)',
      ...tasks.flatMap((t) => t.notes),
      `ratios (> 1: inflow faster): ${Object.entries(ratios).map(([k, v]) => `${k} ${v ?? '–'}`).join(', ')}`,
    ],
  };
}
