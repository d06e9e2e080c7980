// `scaling` suite: how wasm uses more threads. Readback / upload GB/s of a 6.4 MB tensor, and forward,
// sampling and a training step of the bundled flow (models/finc-mnist.safetensors) at several batches
// on 1 and all threads, timed in alternating rounds in one process, with all ÷ 1 beside them.
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../src/index.js';
import { loadModel } from '../src/io/model-file.js';
import type { FlowModel } from '../src/models/index.js';
import { Optimizer } from '../src/train/optimizer.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { median, sideBySide, type TimingPlan } from './lib/timing.js';
import { pixels } from './peers/flow-pair.js';
import { inflowTrainStep } from './perf/train-step.js';

const MODEL = fileURLToPath(new URL('../models/finc-mnist.safetensors', import.meta.url));
/** 6.4 MB of float32: the readback size (a batch-2000 MNIST output). */
const READ_FLOATS = 1_600_000;
const TRAIN_MAX_BATCH = 8;

const PLANS: Record<'model' | 'train' | 'quick', TimingPlan> = {
  model: { warmup: 1, reps: 7, minReps: 3, budgetMs: 20000 },
  train: { warmup: 1, reps: 5, minReps: 3, budgetMs: 30000 },
  quick: { warmup: 0, reps: 2, minReps: 1, budgetMs: 0 },
};

interface TransferRow { threads: number; reps: number; medianMs: Record<string, number>; gbPerS: Record<string, number>; minorFaultsPerFreshRead: number }
interface ModelRow { task: 'forward' | 'sample' | 'train'; batch: number; ms1: number; msN: number; allOverOne: number; reps: number; identical: boolean | null }

export const scalingBench: Suite = {
  name: 'scaling',
  about: 'wasm thread scaling: readback/upload GB/s of 6.4 MB; bundled flow forward / sample / train step at batch 1, 8, 32 on 1 and all threads',
  async run(ctx: SuiteContext) {
    const threadCounts = ctx.threadsAll > 1 ? [1, ctx.threadsAll] : [1];
    const transfer: TransferRow[] = [];
    for (const threads of threadCounts) {
      const engine = await createEngine({ backend: 'wasm', threads });
      transfer.push(await transferBench(engine, threads, ctx.quick ? 5 : 40));
      engine.dispose();
      ctx.peak.sample(1);
    }
    const models = await modelBench(ctx, threadCounts);
    return {
      tables: [transferTable(transfer), modelTable(models, threadCounts)],
      data: { readFloats: READ_FLOATS, transfer, model: { file: 'models/finc-mnist.safetensors', rows: models } },
    };
  },
};

/**
 * Fresh data() allocates its result, so each read also pays the first-touch page faults of that new
 * memory; data(into) into one reused array is the copy alone. Both are reported, with the faults.
 */
async function transferBench(engine: Engine, threads: number, reps: number): Promise<TransferRow> {
  const src = new Float32Array(READ_FLOATS);
  for (let i = 0; i < src.length; i++) src[i] = Math.sin(i);
  const t = engine.tensor(src, [READ_FLOATS]);
  const into = new Float32Array(READ_FLOATS);
  const ms: Record<string, number[]> = { dataFresh: [], dataInto: [], dataSyncInto: [], upload: [] };
  let faults = 0;
  for (let r = -2; r < reps; r++) {
    const f0 = process.resourceUsage().minorPageFault;
    let t0 = performance.now();
    await t.data();
    const fresh = performance.now() - t0;
    const f1 = process.resourceUsage().minorPageFault;
    t0 = performance.now();
    await t.data(into);
    const intoMs = performance.now() - t0;
    t0 = performance.now();
    t.dataSync(into);
    const syncMs = performance.now() - t0;
    t0 = performance.now();
    const u = engine.tensor(src, [READ_FLOATS]);
    const up = performance.now() - t0;
    u.dispose();
    if (r < 0) continue; // warm-up rounds: tier-up and the wasm memory growing to its working size
    faults += f1 - f0;
    ms.dataFresh!.push(fresh); ms.dataInto!.push(intoMs); ms.dataSyncInto!.push(syncMs); ms.upload!.push(up);
  }
  if (!into.every((v, i) => v === src[i])) throw new Error('scaling: readback differs from what was uploaded');
  t.dispose();
  const medianMs = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, sig(median(v), 3)]));
  const gbPerS = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, sig((READ_FLOATS * 4) / 1e6 / median(v), 3)]));
  return { threads, reps, medianMs, gbPerS, minorFaultsPerFreshRead: Math.round(faults / reps) };
}

async function modelBench(ctx: SuiteContext, threadCounts: number[]): Promise<ModelRow[]> {
  const engines = await Promise.all(threadCounts.map((threads) => createEngine({ backend: 'wasm', threads })));
  const flows = await Promise.all(engines.map((engine) => loadModel(MODEL, { engine })));
  const shape = flows[0]!.config.model.inputShape;
  const rows: ModelRow[] = [];
  const batches = ctx.quick ? [1, 8] : [1, 8, 32];
  const plan = (task: ModelRow['task']) => (ctx.quick ? PLANS.quick : task === 'train' ? PLANS.train : PLANS.model);
  const add = async (task: ModelRow['task'], batch: number, call: (m: FlowModel, i: number) => Promise<Float32Array | null>) => {
    process.stderr.write(`scaling: ${task}, batch ${batch}\n`);
    const outs: Array<Float32Array | null> = flows.map(() => null);
    const { timings } = await sideBySide(flows.map((m, i) => async () => { outs[i] = await call(m, i); }), plan(task));
    const ms1 = timings[0]!.medianMs, msN = timings[timings.length - 1]!.medianMs;
    const [a, b] = [outs[0], outs[outs.length - 1]];
    rows.push({ task, batch, ms1: sig(ms1, 4), msN: sig(msN, 4), allOverOne: sig(ms1 / msN, 3), reps: timings[0]!.samplesMs.length,
      identical: a && b && outs.length > 1 ? a.length === b.length && a.every((v, i) => Object.is(v, b[i])) : null });
    ctx.peak.sample(1);
  };
  for (const n of batches) {
    const x = pixels(n, shape, 1);
    const dims = [n, ...shape];
    await add('forward', n, async (m) => {
      const lp = m.engine.noGrad(() => m.engine.scope(() => m.logProb(m.engine.tensor(x, dims))));
      const d = await lp.data();
      lp.dispose();
      return d;
    });
    await add('sample', n, async (m) => {
      const s = await m.sample(n, { seed: 3 });
      const d = await s.data();
      s.dispose();
      return d;
    });
    // The bundled flow is class-conditional: unlabelled likelihoods marginalise over its 10 classes, so a
    // batch-32 training step holds 320 images' activations and exceeds wasm32's 2 GiB. Training stops at 8.
    if (n > TRAIN_MAX_BATCH) continue;
    // Training moves the weights: each engine gets its own optimizer, and the loss is not compared.
    const opts = flows.map((m) => new Optimizer(m.engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }));
    await add('train', n, async (m, i) => { await inflowTrainStep(m, opts[i]!, x, dims); return null; });
    for (const o of opts) o.dispose();
  }
  for (const f of flows) f.dispose();
  for (const e of engines) e.dispose();
  return rows;
}

function transferTable(rows: TransferRow[]): Table {
  return {
    title: `wasm readback / upload of ${(READ_FLOATS * 4) / 1e6} MB float32: median GB/s (ms) over the repetitions`,
    header: ['threads', 'reps', 'data() fresh', 'data(into)', 'dataSync(into)', 'upload tensor()', 'faults / fresh read'],
    rows: rows.map((r) => [r.threads, r.reps, ...['dataFresh', 'dataInto', 'dataSyncInto', 'upload'].map((k) => `${r.gbPerS[k]} (${r.medianMs[k]} ms)`), r.minorFaultsPerFreshRead]),
    notes: ['data() fresh returns a new array: its time includes the page faults of first touching that memory (docs/thread-scaling.md)'],
  };
}

function modelTable(rows: ModelRow[], threadCounts: number[]): Table {
  const all = threadCounts[threadCounts.length - 1]!;
  return {
    title: `bundled flow (models/finc-mnist.safetensors) on wasm: warm median ms, 1 vs ${all} threads`,
    header: ['task', 'batch', '1 thread ms', `${all} threads ms`, `${all} ÷ 1 speed-up`, 'reps', 'bit-identical'],
    rows: rows.map((r) => [r.task, r.batch, r.ms1, r.msN, r.allOverOne, r.reps, r.identical === null ? '–' : String(r.identical)]),
    notes: [`train steps only up to batch ${TRAIN_MAX_BATCH}: unlabelled, the 10-class flow's batch-32 step needs more than wasm32's 2 GiB`],
  };
}
