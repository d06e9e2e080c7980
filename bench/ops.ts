import { conv2d, createEngine, matmul, type Engine, type Tensor } from '../src/index.js';
import { relDiff, sig } from './lib/compare.js';
import { uniform } from './lib/random.js';
import type { Finish, Suite, SuiteContext, SuiteResult } from './lib/suite.js';
import { gflops, release, sideBySide, type TimingPlan } from './lib/timing.js';
import { kernelTables, type Cell, type Row } from './ops-tables.js';
import { runGenerativeOpsBench } from './ops-generative.js';
import { runSolveBench } from './ops-solve.js';
import { initTfjs, nchwToNhwc, oihwToHwio, tf } from './tfjs.js';

const BATCH = 16;

/** One benchmark shape, stated once for both layouts: inflow is NCHW / OIHW, tfjs NHWC / HWIO. */
interface Case {
  op: 'conv2d' | 'matmul';
  name: string;
  dims: Record<string, number | string>;
  flops: number;
  inflowInputs: Array<{ data: Float32Array; shape: number[] }>;
  tfjsInputs: Array<{ data: Float32Array; shape: number[] }>;
  inflow(ts: readonly Tensor[]): Tensor;
  tfjs(ts: readonly tf.Tensor[]): tf.Tensor;
  /** inflow's output in tfjs's layout, for the agreement check. */
  toTfjsLayout(out: Float32Array): Float32Array;
}

function convCase(N: number, Ci: number, Co: number, k: number, H: number, seed: number): Case {
  const W = H;
  const x = uniform(N * Ci * H * W, seed);
  const w = uniform(Co * Ci * k * k, seed + 1, 1 / Math.sqrt(Ci * k * k));
  return {
    op: 'conv2d',
    name: `conv ${k}×${k} ${Ci}→${Co} @${H}×${W}`,
    dims: { N, Ci, Co, H, W, k, pad: 'same' },
    // 'same' keeps H×W, and the zero-padded taps are counted as work, as every conv benchmark does.
    flops: 2 * N * H * W * Co * Ci * k * k,
    inflowInputs: [{ data: x, shape: [N, Ci, H, W] }, { data: w, shape: [Co, Ci, k, k] }],
    tfjsInputs: [{ data: nchwToNhwc(x, [N, Ci, H, W]), shape: [N, H, W, Ci] }, { data: oihwToHwio(w, [Co, Ci, k, k]), shape: [k, k, Ci, Co] }],
    inflow: ([a, b]) => conv2d(a!, b!, { pad: 'same' }),
    tfjs: ([a, b]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'),
    toTfjsLayout: (out) => nchwToNhwc(out, [N, Co, H, W]),
  };
}

function matmulCase(M: number, K: number, N: number, seed: number, why: string): Case {
  const a = uniform(M * K, seed), b = uniform(K * N, seed + 1, 1 / Math.sqrt(K));
  return {
    op: 'matmul',
    name: `matmul ${M}×${K}·${K}×${N}${why ? ` (${why})` : ''}`,
    dims: { M, K, N },
    flops: 2 * M * K * N,
    inflowInputs: [{ data: a, shape: [M, K] }, { data: b, shape: [K, N] }],
    tfjsInputs: [{ data: a, shape: [M, K] }, { data: b, shape: [K, N] }],
    inflow: ([x, y]) => matmul(x!, y!),
    tfjs: ([x, y]) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D),
    toTfjsLayout: (out) => out,
  };
}

/**
 * The benchmark shapes at batch N. The data of a smaller batch is the leading part of a larger one
 * (same seeds, batch outermost in both layouts), so a reduced reference run is checked against a slice.
 */
export const cases = (N: number): Case[] => [
  convCase(N, 2, 512, 3, 14, 11),
  convCase(N, 512, 512, 1, 14, 21),
  convCase(N, 512, 8, 3, 7, 31),
  convCase(N, 6, 512, 3, 16, 41),
  convCase(N, 512, 512, 1, 8, 51),
  matmulCase(N * 14 * 14, 512, 512, 61, '= 1×1 @14×14'),
  matmulCase(N * 8 * 8, 512, 512, 71, '= 1×1 @8×8'),
  matmulCase(512, 512, 512, 81, ''),
];

/** Above this many flops the float64 reference (≈ 0.1 GFLOP/s) runs the same shape at batch REFERENCE_SMALL_BATCH. */
const REFERENCE_MAX_FLOPS = 3e8;
const REFERENCE_SMALL_BATCH = 2;
/** What the tables say about the reference's plan. */
const REFERENCE_NOTE = `float64 JS oracle, cold + 1 warm call; * = batch ${REFERENCE_SMALL_BATCH}, the same per-image shape (above ${REFERENCE_MAX_FLOPS / 1e6} MFLOP batch 16 takes minutes)`;

const FAST_PLAN: TimingPlan = { warmup: 2, reps: 9, minReps: 5, budgetMs: 4000 };
const QUICK_PLAN: TimingPlan = { warmup: 1, reps: 3, minReps: 2, budgetMs: 1000 };
/** The float64 reference runs in plain JS loops: one warm call after the cold one is all it gets. */
const REFERENCE_PLAN: TimingPlan = { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 };

export interface Contender {
  id: string;
  label: string;
  threads: number;
  engine?: Engine;
}

/** tfjs-wasm, inflow wasm on one thread and on every thread: the contenders of both op tables. */
export async function tfjsAndInflowContenders(ctx: SuiteContext): Promise<{ contenders: Contender[]; notes: string[]; tfjsFacts: Awaited<ReturnType<typeof initTfjs>> }> {
  const tfjsFacts = await initTfjs();
  const contenders: Contender[] = [
    { id: 'tfjs', label: `tfjs-wasm ${tfjsFacts.version} (XNNPACK${tfjsFacts.simd ? ', SIMD' : ''}${tfjsFacts.multithread ? ', threads' : ', 1 thread'})`, threads: 1 },
    { id: 'wasm1', label: 'inflow wasm, 1 thread', threads: 1, engine: await createEngine({ backend: 'wasm', threads: 1 }) },
  ];
  const notes: string[] = [];
  if (ctx.threadsAll > 1) {
    const engine = await createEngine({ backend: 'wasm', threads: ctx.threadsAll });
    const got = Number(engine.info().details.threads ?? 1);
    if (got !== ctx.threadsAll) notes.push(`inflow wasm asked for ${ctx.threadsAll} threads and got ${got}: ${String(engine.info().details.singleThreadReason)}`);
    contenders.push({ id: 'wasmN', label: `inflow wasm, ${got} threads`, threads: got, engine });
  } else notes.push('one core only: no threaded run');
  return { contenders, notes, tfjsFacts };
}

export const ops: Suite = {
  name: 'ops',
  about: 'conv2d / matmul GFLOP/s: inflow wasm (1 and all threads) and reference vs tfjs-wasm; strided / depthwise / transposed conv, GroupNorm, softmax, attention vs tfjs-wasm and onnxruntime-node; solve wavefront vs raster per backend',
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const finishKernels = await runKernelBench(ctx);
    const finishImage = await runGenerativeOpsBench(ctx);
    const finishSolve = await runSolveBench(ctx);
    const peak = ctx.peak.gflopsPerCore;
    const kernels = finishKernels(peak), image = finishImage(peak), solve = finishSolve(peak);
    return { tables: [...kernels.tables, ...image.tables, ...solve.tables], data: { kernels: kernels.data, imageOps: image.data, solve: solve.data } };
  },
};

async function runKernelBench(ctx: SuiteContext): Promise<Finish> {
  const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
  const reference = await createEngine({ backend: 'reference' });
  const plan = ctx.quick ? QUICK_PLAN : FAST_PLAN;

  const rows: Row[] = [];
  const small = cases(REFERENCE_SMALL_BATCH);
  for (const [ci, c] of cases(BATCH).entries()) {
    process.stderr.write(`ops: ${c.name}\n`);
    const tfIn = c.tfjsInputs.map((i) => tf.tensor(i.data, i.shape));
    const engIn = contenders.map((ct) => (ct.engine ? c.inflowInputs.map((i) => ct.engine!.tensor(i.data, i.shape)) : []));
    const calls = contenders.map((ct, i) => (ct.engine ? () => c.inflow(engIn[i]!) : () => c.tfjs(tfIn)));
    const { timings, coldResults } = await sideBySide(calls, plan);
    const tfjsOut = Float32Array.from((coldResults[0] as tf.Tensor).dataSync());
    const cells: Record<string, Cell> = {};
    for (let i = 0; i < contenders.length; i++) {
      const ct = contenders[i]!, t = timings[i]!;
      const out = coldResults[i];
      const diff = i === 0 ? null : sig(relDiff(c.toTfjsLayout(await (out as Tensor).data()), tfjsOut));
      release(out);
      const g = gflops(c.flops, t.medianMs);
      cells[ct.id] = { ...t, batch: BATCH, threads: ct.threads, gflops: sig(g, 4), pctPeak: 0, relDiffVsTfjs: diff };
    }
    cells.reference = c.flops > REFERENCE_MAX_FLOPS
      ? await timeReference(reference, small[ci]!, REFERENCE_SMALL_BATCH, tfjsOut)
      : await timeReference(reference, c, BATCH, tfjsOut);
    for (const t of tfIn) t.dispose();
    for (const ins of engIn) for (const t of ins) t.dispose();
    // Rates, not times: the reference may have run a smaller batch.
    const ratio = (id: string) => (cells[id] ? sig(cells[id]!.gflops / cells.tfjs!.gflops, 3) : null);
    const minRatio = (id: string) => (cells[id] ? sig(cells.tfjs!.minMs / cells[id]!.minMs, 3) : null);
    ctx.peak.sample();
    rows.push({
      op: c.op, name: c.name, dims: c.dims, flops: c.flops, results: cells,
      // inflow GFLOP/s over tfjs GFLOP/s: ≥ 1 means inflow is at least as fast.
      ratioVsTfjs: { wasm1: ratio('wasm1'), wasmN: ratio('wasmN'), reference: ratio('reference') },
      // The same from each side's fastest call: on a shared machine the least disturbed estimate.
      ratioVsTfjsOfMin: { wasm1: minRatio('wasm1'), wasmN: minRatio('wasmN') },
    });
  }
  for (const ct of contenders) ct.engine?.dispose();
  reference.dispose();
  return (peak) => {
    for (const r of rows) for (const cell of Object.values(r.results)) cell.pctPeak = sig((100 * cell.gflops) / (peak * cell.threads), 3);
    return {
      tables: kernelTables(rows, contenders, { peak, batch: BATCH, referenceNote: REFERENCE_NOTE, notes }),
      data: {
        batch: BATCH, tfjs: tfjsFacts, contenders: contenders.map(({ id, label, threads }) => ({ id, label, threads })),
        plan, referencePlan: REFERENCE_PLAN, referenceSmallBatch: { batch: REFERENCE_SMALL_BATCH, aboveFlops: REFERENCE_MAX_FLOPS },
        rows, notes,
      },
    };
  };
}

/** Cold plus one warm call, alone after the fast contenders' rounds: its seconds per call would swamp their alternation. */
async function timeReference(engine: Engine, c: Case, batch: number, tfjsOut: Float32Array): Promise<Cell> {
  const ins = c.inflowInputs.map((i) => engine.tensor(i.data, i.shape));
  const { timings, coldResults } = await sideBySide([() => c.inflow(ins)], REFERENCE_PLAN);
  const out = coldResults[0] as Tensor;
  const got = c.toTfjsLayout(await out.data());
  const diff = sig(relDiff(got, tfjsOut.subarray(0, got.length)));
  out.dispose();
  for (const t of ins) t.dispose();
  const t = timings[0]!, g = gflops(c.flops, t.medianMs);
  return { ...t, batch, threads: 1, gflops: sig(g, 4), pctPeak: 0, relDiffVsTfjs: diff };
}

