import { createEngine, solve, type Engine, type Tensor } from '../src/index.js';
import { relDiff, sig } from './lib/compare.js';
import { uniform } from './lib/random.js';
import type { Table } from './lib/report.js';
import type { Finish, SuiteContext, SuiteResult } from './lib/suite.js';
import { gflops, release, sideBySide, type Timing, type TimingPlan } from './lib/timing.js';

const BATCH = 16;
const K = 3;
const GROUPS = 4;
const CORNERS = ['tl', 'tr', 'bl', 'br'] as const;
const SIZES = [16, 32, 64];
const CGS = [3, 12];
/**
 * Above this many flops the slow backends (the float64 reference, a software WebGPU adapter: seconds
 * per call) solve batch SMALL_BATCH, the leading images of the same data.
 */
const SLOW_MAX_FLOPS = 3e8;
const SMALL_BATCH = 2;

interface SolveBackend {
  id: string;
  /** The table's name for it. */
  short: string;
  label: string;
  threads: number;
  engine: Engine;
  plan: TimingPlan;
  /** WebGPU only queues work: its calls wait for the result, the others compute inside the call. */
  sync: boolean;
  slow: boolean;
}

const PLANS: Record<string, TimingPlan> = {
  reference: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
  wasm: { warmup: 2, reps: 9, minReps: 5, budgetMs: 1500 },
  webgpu: { warmup: 1, reps: 5, minReps: 2, budgetMs: 3000 },
  // SwiftShader takes seconds per large solve: the first warm call is the measurement.
  webgpuSoftware: { warmup: 0, reps: 3, minReps: 1, budgetMs: 2000 },
  quick: { warmup: 1, reps: 2, minReps: 1, budgetMs: 300 },
};

async function solveBackends(ctx: SuiteContext, notes: string[]): Promise<SolveBackend[]> {
  const plan = (p: string) => (ctx.quick ? PLANS.quick! : PLANS[p]!);
  const list: SolveBackend[] = [
    { id: 'reference', short: 'reference', label: 'reference (float64 JS)', threads: 1, engine: await createEngine({ backend: 'reference' }), plan: plan('reference'), sync: false, slow: true },
    { id: 'wasm1', short: 'wasm 1t', label: 'wasm, 1 thread', threads: 1, engine: await createEngine({ backend: 'wasm', threads: 1 }), plan: plan('wasm'), sync: false, slow: false },
  ];
  if (ctx.threadsAll > 1) {
    const engine = await createEngine({ backend: 'wasm', threads: ctx.threadsAll });
    const got = Number(engine.info().details.threads ?? 1);
    list.push({ id: 'wasmN', short: `wasm ${got}t`, label: `wasm, ${got} threads`, threads: got, engine, plan: plan('wasm'), sync: false, slow: false });
  }
  try {
    const engine = await createEngine({ backend: 'webgpu' });
    const adapter = engine.info().details.adapter as Record<string, unknown> | undefined;
    const software = engine.info().details.software === true;
    const name = [adapter?.vendor, adapter?.architecture, adapter?.description].filter(Boolean).join(' ') || 'unknown adapter';
    // A software adapter runs the shaders on these same CPU cores: its numbers say nothing about a GPU.
    const label = software || /swiftshader/i.test(name) ? `webgpu on ${name} — SOFTWARE adapter (CPU-emulated)` : `webgpu on ${name}`;
    list.push({ id: 'webgpu', short: software ? 'webgpu (software)' : 'webgpu', label, threads: 0, engine, plan: plan(software ? 'webgpuSoftware' : 'webgpu'), sync: true, slow: software });
  } catch (e) {
    notes.push(`webgpu skipped: ${(e as Error).message}`);
  }
  return list;
}

export async function runSolveBench(ctx: SuiteContext): Promise<Finish> {
  const notes: string[] = [];
  const backends = await solveBackends(ctx, notes);
  const oracle = new Map<string, Float32Array>();
  const rows: SolveRow[] = [];
  for (const b of backends) {
    for (const H of SIZES) {
      for (const Cg of CGS) {
        const key = `${H}/${Cg}`;
        process.stderr.write(`solve: ${b.id} ${H}×${H} Cg=${Cg}\n`);
        const C = GROUPS * Cg;
        const full = 2 * BATCH * H * H * C * Cg * K * K;
        const N = b.slow && full > SLOW_MAX_FLOPS ? SMALL_BATCH : BATCH;
        const flops = (full / BATCH) * N;
        const y = b.engine.tensor(uniform(N * C * H * H, 1000 + H + Cg), [N, C, H, H]);
        // Rows of K sum to well under 1 in magnitude, so the substitution neither blows up nor sinks into denormals.
        const k = b.engine.tensor(uniform(C * Cg * K * K, 2000 + H + Cg, 0.5 / (Cg * K * K)), [C, Cg, K, K]);
        const call = (algorithm: 'wavefront' | 'raster') => async () => {
          const x = solve(y, k, { groups: GROUPS, unitDiag: true, corners: CORNERS, algorithm });
          if (b.sync) await x.data();
          return x;
        };
        const { timings, coldResults } = await sideBySide([call('wavefront'), call('raster')], b.plan);
        const [wf, ra] = await Promise.all(coldResults.map((r) => (r as Tensor).data()));
        coldResults.forEach(release);
        if (b.id === 'reference') oracle.set(key, wf!);
        const ref = oracle.get(key);
        y.dispose();
        k.dispose();
        const [tw, tr] = timings as [Timing, Timing];
        const best = Math.min(tw.medianMs, tr.medianMs);
        rows.push({
          backend: b.id, short: b.short, H, W: H, Cg, C, k: K, batch: N, flops,
          wavefront: { ...tw, gflops: sig(gflops(flops, tw.medianMs), 4) },
          raster: { ...tr, gflops: sig(gflops(flops, tr.medianMs), 4) },
          // < 1: the wavefront is faster.
          wfOverRaster: sig(tw.medianMs / tr.medianMs, 3),
          bestGflops: gflops(flops, best),
          threads: b.threads,
          pctPeakBest: null as number | null,
          relDiffWfRaster: sig(relDiff(wf!, ra!)),
          relDiffVsReference: ref ? sig(relDiff(wf!.subarray(0, ref.length), ref)) : null,
        });
        ctx.peak.sample(1);
      }
    }
  }
  for (const b of backends) b.engine.dispose();
  return (peak) => {
    for (const r of rows) r.pctPeakBest = r.threads ? sig((100 * r.bestGflops) / (peak * r.threads), 3) : null;
    return finish(rows, backends, notes);
  };
}

type SolveRow = Record<string, unknown> & {
  backend: string; short: string; H: number; Cg: number; batch: number; flops: number; threads: number; bestGflops: number; pctPeakBest: number | null;
  wavefront: Timing & { gflops: number }; raster: Timing & { gflops: number }; wfOverRaster: number;
};

function finish(rows: SolveRow[], backends: SolveBackend[], notes: string[]): SuiteResult {
  const table: Table = {
    title: `solve (FInC: ${GROUPS} groups, corners ${CORNERS.join('/')}, unitDiag, k = ${K}, batch ${BATCH}): warm median ms, wavefront / raster (< 1: wavefront faster)`,
    header: ['backend', 'H×W', 'Cg', 'MFLOP', 'wf ms', 'raster ms', 'wf/raster', 'wf GF/s', 'ras GF/s', '%pk best', 'wf cold', 'ras cold', 'Δ wf/ras', 'Δ ref'],
    rows: rows.map((r) => [
      r.short, `${r.H}×${r.H}${r.batch === BATCH ? '' : '*'}`, r.Cg, r.flops / 1e6, r.wavefront.medianMs, r.raster.medianMs, r.wfOverRaster,
      r.wavefront.gflops, r.raster.gflops, r.pctPeakBest,
      r.wavefront.coldMs, r.raster.coldMs, (r.relDiffWfRaster as number).toExponential(1),
      r.relDiffVsReference === null ? null : (r.relDiffVsReference as number).toExponential(1),
    ]),
    notes: [
      'FLOPs = 2·B·H·W·C·Cg·k² (C = 4·Cg); % of peak against the per-core peak × threads; webgpu has no CPU peak',
      `* batch ${SMALL_BATCH} on a slow backend (reference, software webgpu) above ${SLOW_MAX_FLOPS / 1e6} MFLOP; checked against the reference's leading images`,
      ...backends.map((b) => `${b.short}: ${b.label}; cold call, ${b.plan.warmup} warm-up, ${b.plan.minReps}–${b.plan.reps} timed calls`),
      ...notes,
    ],
  };
  return {
    tables: [table],
    data: { backends: backends.map(({ id, short, label, threads, plan }) => ({ id, short, label, threads, plan })), rows, notes },
  };
}
