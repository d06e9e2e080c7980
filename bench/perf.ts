// `perf` suite: inflow against its peers in one process — the coupling network's conv stack vs
// tfjs-wasm and onnxruntime-node, the whole FInC flow vs the same flow in tfjs, sampling vs batch.
import { createEngine } from '../src/index.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import type { TimingPlan } from './lib/timing.js';
import { batchBench, BATCH_ARCH, type BatchRow } from './perf/batch.js';
import { convStackBench, loadOrt, type StackRow, type StackShape } from './perf/conv-stack.js';
import { flowBench, type FlowEngine, type FlowTask } from './perf/flow.js';
import { trainStepBench } from './perf/train-step.js';
import type { FlowShape } from './peers/tfjs-flow.js';
import { initTfjs } from './tfjs.js';

/** The bundled model's recipe (L2 K8 width 96 on MNIST), as in the train suite. */
const FLOW: FlowShape = { inputShape: [1, 28, 28], levels: 2, steps: 8, width: 96, kernelSize: 3, alpha: 1e-6 };
const QUICK_FLOW: FlowShape = { ...FLOW, steps: 2, width: 32 };
/** tfjs trains on its cpu backend (see perf/train-step.ts): ~10 s a step at this size on 2 cores. */
const TRAIN_FLOW: FlowShape = { ...FLOW, steps: 4, width: 64 };

/** The coupling networks of that model at batch 16 (level 1, level 2), and the papers' width 512. */
const STACKS: StackShape[] = [
  { name: 'L1 coupling 2→96→96→4 @14×14', N: 16, Ci: 2, width: 96, Co: 4, H: 14 },
  { name: 'L2 coupling 4→96→96→8 @7×7', N: 16, Ci: 4, width: 96, Co: 8, H: 7 },
  { name: 'paper-width coupling 2→512→512→4 @14×14', N: 16, Ci: 2, width: 512, Co: 4, H: 14 },
];
const QUICK_STACKS: StackShape[] = [{ ...STACKS[0]!, N: 4 }];

const PLANS: Record<'fast' | 'slow' | 'batch' | 'train' | 'quick', TimingPlan> = {
  fast: { warmup: 2, reps: 9, minReps: 5, budgetMs: 3000 },
  slow: { warmup: 1, reps: 4, minReps: 2, budgetMs: 6000 },
  batch: { warmup: 0, reps: 2, minReps: 1, budgetMs: 2000 },
  train: { warmup: 0, reps: 2, minReps: 1, budgetMs: 15000 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};

export const perf: Suite = {
  name: 'perf',
  about: 'inflow vs peers: conv stack vs tfjs-wasm and onnxruntime-node; FInC flow forward / train step / sampling vs the same flow in tfjs; sampling vs batch',
  async run(ctx: SuiteContext) {
    const tfjsFacts = await initTfjs();
    const { ort, why: ortMissing, version: ortVersion } = await loadOrt();
    const engines: FlowEngine[] = [{ id: 'wasm1', label: 'inflow wasm, 1 thread', engine: await createEngine({ backend: 'wasm', threads: 1 }) }];
    if (ctx.threadsAll > 1) {
      const engine = await createEngine({ backend: 'wasm', threads: ctx.threadsAll });
      engines.push({ id: 'wasmN', label: `inflow wasm, ${Number(engine.info().details.threads ?? 1)} threads`, engine });
    }
    const q = ctx.quick;
    const stacks = await convStackBench(q ? QUICK_STACKS : STACKS, engines, ort, ctx.threadsAll, q ? PLANS.quick : PLANS.fast, () => ctx.peak.sample(1));
    const shape = q ? QUICK_FLOW : FLOW;
    const flow = await flowBench(shape, engines, q ? { forward: 4, sample: 2 } : { forward: 32, sample: 16 },
      q ? { fast: PLANS.quick, slow: PLANS.quick } : { fast: PLANS.fast, slow: PLANS.slow }, () => ctx.peak.sample(1));
    flow.tasks.push(await trainStepBench(q ? QUICK_FLOW : TRAIN_FLOW, engines, q ? 4 : 8, q ? PLANS.quick : PLANS.train));
    ctx.peak.sample(1);
    const parallel = engines[engines.length - 1]!;
    const batch = await batchBench(parallel.engine, q ? [1, 4] : [1, 4, 16, 64, 128], q ? PLANS.quick : PLANS.batch, () => ctx.peak.sample(1));
    for (const e of engines) e.engine.dispose();

    const peak = ctx.peak.gflopsPerCore;
    const threadsOf = (id: string) => (id === 'wasmN' || id === `ort${ctx.threadsAll}` ? ctx.threadsAll : 1);
    for (const r of stacks) for (const c of r.contenders) (c as typeof c & { pctPeak: number }).pctPeak = sig((100 * c.gflops) / (peak * threadsOf(c.id)), 3);
    const ratios = summaryRatios(stacks, flow.tasks);
    return {
      tables: [stackTable(stacks, peak), flowTable(flow.tasks, shape, flow.params), batchTable(batch, parallel.label), ratioTable(ratios)],
      data: {
        peers: { tfjs: tfjsFacts, onnxruntime: ort ? { version: ortVersion, threads: ctx.threadsAll > 1 ? [1, ctx.threadsAll] : [1] } : { missing: ortMissing } },
        convStack: stacks, flow: { shape, params: flow.params, tasks: flow.tasks, memory: flow.memory },
        samplingVsBatch: { arch: BATCH_ARCH, backend: parallel.label, rows: batch }, ratios,
      },
    };
  },
};

/** The headline ratios: > 1 means inflow is faster. */
function summaryRatios(stacks: StackRow[], tasks: FlowTask[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  const ms = (cs: Array<{ id: string; medianMs: number }>, id: string) => cs.find((c) => c.id === id)?.medianMs ?? null;
  const ratio = (a: number | null, b: number | null) => (a && b ? sig(b / a, 3) : null);
  for (const [i, r] of stacks.entries()) {
    const c = r.contenders;
    out[`convStack${i}_wasm1_over_tfjs`] = ratio(ms(c, 'wasm1'), ms(c, 'tfjs'));
    out[`convStack${i}_wasmN_over_tfjs`] = ratio(ms(c, 'wasmN'), ms(c, 'tfjs'));
    out[`convStack${i}_wasmN_over_ort1`] = ratio(ms(c, 'wasmN'), ms(c, 'ort1'));
    out[`convStack${i}_wasmN_over_ortN`] = ratio(ms(c, 'wasmN'), c.find((x) => x.id.startsWith('ort') && x.id !== 'ort1')?.medianMs ?? null);
  }
  for (const t of tasks) {
    const c = t.contenders.map((x) => ({ id: x.id, medianMs: x.timing.medianMs }));
    out[`${t.task}_wasm1_over_tfjs`] = ratio(ms(c, 'wasm1'), ms(c, 'tfjs'));
    out[`${t.task}_wasmN_over_tfjs`] = ratio(ms(c, 'wasmN'), ms(c, 'tfjs'));
    out[`${t.task}_wasmN_over_wasm1`] = ratio(ms(c, 'wasmN'), ms(c, 'wasm1'));
    if (t.task === 'sample') out.sample_wavefrontN_over_raster1 = ratio(ms(c, 'wasmN'), ms(c, 'wasm1-raster'));
  }
  return out;
}

function stackTable(rows: StackRow[], peak: number): Table {
  const ids = rows[0]?.contenders.map((c) => c.id) ?? [];
  return {
    title: `coupling-network forward (conv3×3 → ReLU → conv1×1 → ReLU → conv3×3, batch 16): warm median ms · GFLOP/s · % of peak (${peak} GFLOP/s per core × threads)`,
    header: ['shape', ...ids.flatMap((id) => [`${id} ms`, 'GF/s', '%pk'])],
    rows: rows.map((r) => [r.shape.name, ...r.contenders.flatMap((c) => [c.medianMs, c.gflops, (c as typeof c & { pctPeak?: number }).pctPeak ?? null])]),
    notes: [...(rows[0]?.contenders.map((c) => `${c.id}: ${c.label}`) ?? []),
      `agreement with wasm1 (max |Δ| / max |y|): ${rows.map((r) => r.contenders.map((c) => c.relDiff === null ? '' : `${c.id} ${c.relDiff.toExponential(1)}`).filter(Boolean).join(', ')).join(' | ')}`],
  };
}

function flowTable(tasks: FlowTask[], shape: FlowShape, params: number): Table {
  return {
    title: `FInC flow L${shape.levels} K${shape.steps} width ${shape.width} on 1×28×28 (${params} parameters): inflow vs the same flow in tfjs, same weights`,
    header: ['task', 'batch', 'contender', 'cold ms', 'warm ms', 'images/s', '÷ tfjs'],
    rows: tasks.flatMap((t) => {
      const tf = t.contenders.find((c) => c.id === 'tfjs')!;
      return t.contenders.map((c) => [t.shape ? `${t.task} (K${t.shape.steps} w${t.shape.width})` : t.task, t.batch, c.label, c.timing.coldMs, c.timing.medianMs, c.imagesPerSecond, sig(tf.timing.medianMs / c.timing.medianMs, 3)]);
    }),
    notes: tasks.map((t) => `${t.task}: ${Object.entries(t.check).map(([k, v]) => `${k} ${v}`).join(', ')}`),
  };
}

function batchTable(rows: BatchRow[], backend: string): Table {
  return {
    title: `sample() time vs batch, ${BATCH_ARCH.inputShape.join('×')} L${BATCH_ARCH.levels} K${BATCH_ARCH.steps} width ${BATCH_ARCH.width}, ${backend}: warm median ms (÷ FInC)`,
    header: ['batch', 'FInC', 'raster', '÷', 'Emerging', '÷', 'Inverse-Flow', '÷'],
    rows: rows.map((r) => [r.batch, r.medianMs.finc!, r.medianMs.raster!, r.overFinc.raster!, r.medianMs.emerging!, r.overFinc.emerging!, r.medianMs.inverse!, r.overFinc.inverse!]),
  };
}

function ratioTable(ratios: Record<string, number | null>): Table {
  return { title: 'headline ratios (> 1: inflow faster)', header: ['ratio', 'value'], rows: Object.entries(ratios).map(([k, v]) => [k, v]) };
}
