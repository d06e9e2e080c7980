import { createEngine, models, type Engine, type Tensor } from '../src/index.js';
import type { FlowModel, ModelConfig } from '../src/models/index.js';
import { relDiff, sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { release, round3, sideBySide, type Timing, type TimingPlan } from './lib/timing.js';

/**
 * One set of weights timed under the wavefront and under the raster (CInC-style) schedule, beside an
 * Emerging and an Inverse-Flow model of the same size: the solve schedule is the only difference
 * between the first two, so their ratio is the papers' claim in isolation.
 */
const VARIANTS = [
  { id: 'finc', label: 'FInC, wavefront inverse', kind: 'finc', algorithm: 'wavefront' },
  { id: 'raster', label: 'FInC weights, raster (CInC-style) inverse', kind: 'finc', algorithm: 'raster' },
  { id: 'emerging', label: 'Emerging (two raster substitutions per conv)', kind: 'emerging', algorithm: 'raster' },
  { id: 'inverse', label: 'Inverse-Flow (sampling is a convolution)', kind: 'inverse', algorithm: 'wavefront' },
] as const;
type VariantId = (typeof VARIANTS)[number]['id'];

const build = { finc: models.fincFlow, emerging: models.emerging, inverse: models.inverseFlow } as const;

/**
 * The papers sample 100 images; on 2 shared cores that is ~20 s (MNIST) and ~50 s (CIFAR) per call on
 * one thread, so a smaller batch is timed and scaled to 100 (sampling is per-image independent).
 */
const PRESETS = [
  { preset: 'mnist', batch: 20, quickBatch: 2 },
  { preset: 'cifar10', batch: 5, quickBatch: 1 },
] as const;
/** The float64 reference runs ~0.1 GFLOP/s: one image, one cold call, wavefront only. */
const REFERENCE_IMAGES = 1;

const F4_SIZES: Array<[number, number]> = [[8, 8], [8, 16], [16, 16], [16, 32], [32, 32], [32, 64], [64, 64]];
const F4_ARCH = { levels: 2, steps: 4, width: 64, channels: 3 };
const F4_BATCH = 16;
/** SwiftShader runs the shaders on these same two cores: only the smallest sizes fit the budget. */
const WEBGPU_MAX_PIXELS = 8 * 16;

const PLANS: Record<string, TimingPlan> = {
  preset: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
  grid: { warmup: 1, reps: 5, minReps: 3, budgetMs: 3000 },
  software: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};

/** Papers' sampling times (docs/papers.md §1), seconds per 100 images, on a GPU (CInC C3: one CPU core). */
const PAPER_S100: Record<string, Partial<Record<VariantId, { s: number; src: string }>>> = {
  mnist: { finc: { s: 0.09, src: 'F1' }, emerging: { s: 0.62, src: 'F1' }, inverse: { s: 0.052, src: 'I1 (RTX 2080 Ti)' } },
  cifar10: { finc: { s: 0.41, src: 'F1' }, raster: { s: 7.91, src: 'F1 CInC' }, emerging: { s: 17.19, src: 'F1' } },
};
const PAPER_F3 = [
  { preset: 'mnist', samples: 1, alg1: 0.09, alg2: 0.07 }, { preset: 'mnist', samples: 100, alg1: 0.12, alg2: 0.09 },
  { preset: 'cifar10', samples: 1, alg1: 0.73, alg2: 0.3 }, { preset: 'cifar10', samples: 100, alg1: 0.92, alg2: 0.47 },
];
/** F4 raw arrays, ~12.5M-parameter models, seconds, batch unknown (docs/papers.md §3). */
const PAPER_F4: Record<string, number[]> = {
  FInC: [0.057, 0.066, 0.082, 0.115, 0.172, 0.292, 0.572],
  CInC: [0.124, 0.527, 1.086, 1.705, 2.959, 5.643, 11.035],
  Emerging: [0.38, 0.733, 1.467, 2.93, 5.921, 11.985, 24.072],
};

interface Backend { id: string; short: string; label: string; engine: Engine; threads: number; software?: boolean }

async function backends(ctx: SuiteContext, notes: string[]): Promise<{ wasm: Backend[]; reference: Backend; webgpu: Backend | null }> {
  const wasm: Backend[] = [{ id: 'wasm1', short: 'wasm 1t', label: 'wasm, 1 thread', engine: await createEngine({ backend: 'wasm', threads: 1 }), threads: 1 }];
  if (ctx.threadsAll > 1) {
    const engine = await createEngine({ backend: 'wasm', threads: ctx.threadsAll });
    const got = Number(engine.info().details.threads ?? 1);
    if (got !== ctx.threadsAll) notes.push(`wasm asked for ${ctx.threadsAll} threads and got ${got}`);
    wasm.push({ id: 'wasmN', short: `wasm ${got}t`, label: `wasm, ${got} threads`, engine, threads: got });
  } else notes.push('one core only: no threaded run');
  const reference = { id: 'reference', short: 'reference', label: 'reference (float64 JS)', engine: await createEngine({ backend: 'reference' }), threads: 1 };
  let webgpu: Backend | null = null;
  try {
    const engine = await createEngine({ backend: 'webgpu' });
    const d = engine.info().details;
    const a = (d.adapter ?? {}) as Record<string, unknown>;
    const name = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
    const software = d.software === true || /swiftshader/i.test(name);
    webgpu = { id: 'webgpu', short: software ? 'webgpu (sw)' : 'webgpu', label: `webgpu on ${name}${software ? ' — SOFTWARE adapter (CPU-emulated), says nothing about a GPU' : ''}`, engine, threads: 0, software };
  } catch (e) {
    notes.push(`webgpu skipped: ${(e as Error).message}`);
  }
  return { wasm, reference, webgpu };
}

/** The same latents for every variant; the pixels are read back so a queueing backend is timed to the end. */
const sampleCall = (m: Record<string, FlowModel>, v: (typeof VARIANTS)[number], n: number) => async (): Promise<Tensor> => {
  const model = m[v.kind]!;
  model.setSolveAlgorithm(v.algorithm);
  const x = await model.sample(n, { seed: 7 });
  await x.data();
  return x;
};

interface VariantTimes { params: number; cold: Timing[]; wfVsRaster: number }

/**
 * oneModelAtATime: a preset's three models (up to 45M parameters each) and their decode
 * intermediates do not fit one 2 GiB wasm memory together, so each model is built, timed and freed
 * in turn; only the wavefront and raster schedules of the same weights then alternate.
 */
async function timeVariants(engine: Engine, cfg: string | Partial<ModelConfig>, n: number, plan: TimingPlan, oneModelAtATime = false): Promise<VariantTimes> {
  const groups = oneModelAtATime ? (['finc', 'emerging', 'inverse'] as const).map((k) => VARIANTS.filter((v) => v.kind === k)) : [[...VARIANTS]];
  const timings: Timing[] = [];
  let params = 0, wfVsRaster = NaN;
  for (const group of groups) {
    const m: Record<string, FlowModel> = {};
    for (const v of group) m[v.kind] ??= build[v.kind](cfg, { engine, seed: 1 });
    const r = await sideBySide(group.map((v) => sampleCall(m, v, n)), plan);
    const iw = group.findIndex((v) => v.id === 'finc'), ir = group.findIndex((v) => v.id === 'raster');
    if (iw >= 0 && ir >= 0) {
      const [wf, ra] = await Promise.all([iw, ir].map((i) => (r.coldResults[i] as Tensor).data()));
      wfVsRaster = sig(relDiff(wf!, ra!));
      params = m.finc!.paramCount();
    }
    r.coldResults.forEach(release);
    timings.push(...r.timings);
    for (const x of Object.values(m)) x.dispose();
  }
  return { params, cold: timings, wfVsRaster };
}

export const sampling: Suite = {
  name: 'sampling',
  about: 'sample() time: MNIST/CIFAR presets and the F4 size grid, FInC wavefront vs raster vs Emerging vs Inverse-Flow, wasm 1/all threads',
  async run(ctx) {
    const notes: string[] = [];
    const { wasm, reference, webgpu } = await backends(ctx, notes);
    const presetRows = await presetBench(ctx, wasm.map((b) => b.threads), reference);
    const gridRows = await gridBench(ctx, webgpu ? [...wasm, webgpu] : wasm);
    for (const b of [...wasm, reference, ...(webgpu ? [webgpu] : [])]) b.engine.dispose();
    const labels = [...wasm, reference, ...(webgpu ? [webgpu] : [])].map((b) => `${b.short}: ${b.label}`);
    return {
      tables: [presetTable(presetRows, labels), paperF3Table(), ...gridTables(gridRows, [...wasm, ...(webgpu ? [webgpu] : [])]), paperF4Table()],
      data: {
        variants: VARIANTS, backends: labels, notes,
        scaledDown: [
          `presets: batch ${PRESETS.map((p) => `${p.preset} ${ctx.quick ? p.quickBatch : p.batch}`).join(', ')} timed (cold + 1 warm call; one model at a time, FInC wavefront and raster alternating on the same weights) and scaled to 100 images, not 100 sampled; one measured 100-image MNIST FInC run (5 calls of 20: a single sample(100) of this preset exceeds the 2 GiB wasm memory) on the most threads checks the scaling`,
          `reference: ${REFERENCE_IMAGES} image, FInC wavefront only, one cold call (float64 JS, ~20 s per MNIST image)`,
          `F4 grid: L${F4_ARCH.levels} K${F4_ARCH.steps} width ${F4_ARCH.width} (~0.2M parameters, not the papers' 12.5M / 38.5M), batch ${F4_BATCH}`,
          `webgpu: sizes up to ${WEBGPU_MAX_PIXELS} pixels, cold + 1 warm call`,
        ],
        plans: ctx.quick ? { quick: PLANS.quick } : PLANS,
        presets: presetRows, grid: gridRows,
        papers: { secondsPer100: PAPER_S100, F3: PAPER_F3, F4: { sizes: F4_SIZES, seconds: PAPER_F4, note: 'GPU, ~12.5M-parameter models, batch unknown' } },
      },
    };
  },
};

// ---- (a) the papers' presets ------------------------------------------------------------------

interface PresetRow {
  preset: string; backend: string; variant: VariantId; batch: number; params: number;
  coldMs: number; warmMs: number | null; msPerImage: number; secondsPer100Est: number;
  overFinc: number | null; paperSecondsPer100: number | null; paperSource: string | null; paperOverFinc: number | null;
  relDiffWfRaster?: number;
}

/** A fresh wasm engine per preset and thread count: a wasm memory never shrinks, and 2 GiB is its ceiling. */
async function presetBench(ctx: SuiteContext, threadCounts: number[], reference: Backend): Promise<PresetRow[]> {
  const rows: PresetRow[] = [];
  for (const p of PRESETS) {
    const n = ctx.quick ? p.quickBatch : p.batch;
    for (const threads of threadCounts) {
      const engine = await createEngine({ backend: 'wasm', threads });
      const b: Backend = { id: threads === 1 ? 'wasm1' : 'wasmN', short: `wasm ${threads}t`, label: '', engine, threads };
      process.stderr.write(`sampling: ${p.preset} ${b.id} batch ${n}\n`);
      const t = await timeVariants(b.engine, p.preset, n, ctx.quick ? PLANS.quick! : PLANS.preset!, true);
      const fincMs = t.cold[0]!.medianMs;
      VARIANTS.forEach((v, i) => {
        const c = t.cold[i]!, paper = PAPER_S100[p.preset]?.[v.id], paperFinc = PAPER_S100[p.preset]?.finc;
        rows.push({
          preset: p.preset, backend: b.short, variant: v.id, batch: n, params: t.params,
          coldMs: c.coldMs, warmMs: c.medianMs, msPerImage: round3(c.medianMs / n), secondsPer100Est: sig(c.medianMs / n / 10, 3),
          overFinc: sig(c.medianMs / fincMs, 3),
          paperSecondsPer100: paper?.s ?? null, paperSource: paper?.src ?? null,
          paperOverFinc: paper && paperFinc ? sig(paper.s / paperFinc.s, 3) : null,
          ...(v.id === 'raster' ? { relDiffWfRaster: t.wfVsRaster } : {}),
        });
      });
      if (!ctx.quick && p.preset === 'mnist' && threads === threadCounts[threadCounts.length - 1]) rows.push(await measured100(b, p.preset));
      engine.dispose();
      ctx.peak.sample(1);
    }
    process.stderr.write(`sampling: ${p.preset} reference ${REFERENCE_IMAGES} image\n`);
    rows.push(await referenceOnce(reference, p.preset));
  }
  return rows;
}

async function oneCall(b: Backend, preset: string, n: number, calls = 1): Promise<{ ms: number; params: number }> {
  const m = build.finc(preset, { engine: b.engine, seed: 1 });
  const call = sampleCall({ finc: m }, VARIANTS[0], n);
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) release(await call());
  const ms = performance.now() - t0;
  const params = m.paramCount();
  m.dispose();
  return { ms, params };
}

/**
 * Checks the ×100 scaling on a freshly built model. In chunks: one 100-image decode of the MNIST
 * preset keeps more than the 2 GiB a wasm memory can reach alive at once.
 */
const CHUNK = 20;
async function measured100(b: Backend, preset: string): Promise<PresetRow> {
  process.stderr.write(`sampling: ${preset} ${b.id} 100 images\n`);
  const { ms, params } = await oneCall(b, preset, CHUNK, 100 / CHUNK);
  return {
    preset, backend: `${b.short} (100 measured, ${100 / CHUNK}×${CHUNK})`, variant: 'finc', batch: 100, params, coldMs: round3(ms), warmMs: null,
    msPerImage: round3(ms / 100), secondsPer100Est: sig(ms / 1000, 3), overFinc: null, paperSecondsPer100: PAPER_S100[preset]?.finc?.s ?? null,
    paperSource: PAPER_S100[preset]?.finc?.src ?? null, paperOverFinc: null,
  };
}

async function referenceOnce(b: Backend, preset: string): Promise<PresetRow> {
  const { ms, params } = await oneCall(b, preset, REFERENCE_IMAGES);
  return {
    preset, backend: `${b.short} (${REFERENCE_IMAGES} image, cold)`, variant: 'finc', batch: REFERENCE_IMAGES, params, coldMs: round3(ms), warmMs: null,
    msPerImage: round3(ms / REFERENCE_IMAGES), secondsPer100Est: sig(ms / REFERENCE_IMAGES / 10, 3), overFinc: null,
    paperSecondsPer100: null, paperSource: null, paperOverFinc: null,
  };
}

function presetTable(rows: PresetRow[], labels: string[]): Table {
  return {
    title: 'sample() on the papers\' presets (random weights): warm ms per image, est. s per 100 images = ms/image × 100; paper numbers are GPU',
    header: ['preset', 'backend', 'variant', 'params', 'batch', 'cold ms', 'warm ms', 'ms/img', 's/100 est', '÷ FInC', 'paper s/100', 'paper ÷ FInC', 'src'],
    rows: rows.map((r) => [
      r.preset, r.backend, r.variant, `${(r.params / 1e6).toFixed(2)}M`, r.batch, r.coldMs, r.warmMs, r.msPerImage, r.secondsPer100Est,
      r.overFinc, r.paperSecondsPer100 === null ? null : String(r.paperSecondsPer100), r.paperOverFinc, r.paperSource,
    ]),
    notes: [
      'variants: ' + VARIANTS.map((v) => `${v.id} = ${v.label}`).join('; '),
      'params = the FInC model\'s; Emerging and Inverse-Flow models use the same levels/steps/width',
      '÷ FInC: warm time over FInC wavefront\'s on the same backend (> 1: FInC faster); paper ÷ FInC the same from F1 (raster row: CInC Flow)',
      `"100 measured": ${100 / CHUNK} sample(${CHUNK}) calls on a fresh model, first one cold, checks the ×100 scaling (one sample(100) of this preset needs > 2 GiB of wasm memory); reference: one cold call, 1 image (float64 JS)`,
      'paper rows: F1 = FInC paper table (GPU), I1 = Inverse-Flow paper Table 3 (RTX 2080 Ti, ms → s); no paper MNIST CInC number',
      `Δ wf/raster (same weights, same latents): ${rows.filter((r) => r.relDiffWfRaster !== undefined).map((r) => `${r.preset} ${r.backend} ${r.relDiffWfRaster!.toExponential(1)}`).join(', ')}`,
      ...labels,
    ],
  };
}

function paperF3Table(): Table {
  return {
    title: 'papers, F3 (GPU): FInC sampling, Algorithm 1 (4 PCB inverses one after another) vs Algorithm 2 (one fused launch), seconds',
    header: ['preset', 'samples', 'Alg. 1 s', 'Alg. 2 s', 'Alg.1 ÷ Alg.2'],
    rows: PAPER_F3.map((r) => [r.preset, r.samples, r.alg1, r.alg2, sig(r.alg1 / r.alg2, 3)]),
    notes: ['not the raster inverse: both are wavefronts; inflow always fuses the four corners (Algorithm 2)'],
  };
}

// ---- (b) the F4 size grid -----------------------------------------------------------------------

interface GridRow {
  backend: string; H: number; W: number; batch: number; params: number;
  ms: Record<VariantId, number>; coldMs: Record<VariantId, number>; samplesMs: Record<VariantId, number[]>;
  rasterOverFinc: number; emergingOverFinc: number; inverseOverFinc: number; relDiffWfRaster: number;
}

async function gridBench(ctx: SuiteContext, list: Backend[]): Promise<GridRow[]> {
  const rows: GridRow[] = [];
  for (const b of list) {
    for (const [H, W] of F4_SIZES) {
      if (b.id === 'webgpu' && H * W > WEBGPU_MAX_PIXELS) continue;
      process.stderr.write(`sampling: grid ${b.id} ${H}×${W}\n`);
      const cfg = { inputShape: [F4_ARCH.channels, H, W] as [number, number, number], levels: F4_ARCH.levels, steps: F4_ARCH.steps, width: F4_ARCH.width };
      const plan = ctx.quick ? PLANS.quick! : b.id === 'webgpu' ? PLANS.software! : PLANS.grid!;
      const t = await timeVariants(b.engine, cfg, F4_BATCH, plan);
      const pick = (f: (x: Timing) => unknown) => Object.fromEntries(VARIANTS.map((v, i) => [v.id, f(t.cold[i]!)]));
      const ms = pick((x) => x.medianMs) as Record<VariantId, number>;
      rows.push({
        backend: b.short, H, W, batch: F4_BATCH, params: t.params, ms,
        coldMs: pick((x) => x.coldMs) as Record<VariantId, number>, samplesMs: pick((x) => x.samplesMs) as Record<VariantId, number[]>,
        rasterOverFinc: sig(ms.raster / ms.finc, 3), emergingOverFinc: sig(ms.emerging / ms.finc, 3), inverseOverFinc: sig(ms.inverse / ms.finc, 3),
        relDiffWfRaster: t.wfVsRaster,
      });
      ctx.peak.sample(1);
    }
  }
  return rows;
}

function gridTables(rows: GridRow[], list: Backend[]): Table[] {
  const idx = (H: number, W: number) => F4_SIZES.findIndex(([h, w]) => h === H && w === W);
  return list.filter((b) => rows.some((r) => r.backend === b.short)).map((b) => ({
    title: `sample() time vs image size (F4 grid), ${b.label}: L${F4_ARCH.levels} K${F4_ARCH.steps} width ${F4_ARCH.width}, ${F4_ARCH.channels} channels, batch ${F4_BATCH}; warm median ms`,
    header: ['H×W', 'FInC ms', 'raster ms', 'Emerg ms', 'InvF ms', 'ras÷FInC', 'Em÷FInC', 'InvF÷FInC', 'paper CInC÷FInC', 'paper Em÷FInC', 'FInC cold', 'raster cold', 'Δ wf/ras'],
    rows: rows.filter((r) => r.backend === b.short).map((r) => {
      const i = idx(r.H, r.W);
      return [`${r.H}×${r.W}`, r.ms.finc, r.ms.raster, r.ms.emerging, r.ms.inverse, r.rasterOverFinc, r.emergingOverFinc, r.inverseOverFinc,
        sig(PAPER_F4.CInC![i]! / PAPER_F4.FInC![i]!, 3), sig(PAPER_F4.Emerging![i]! / PAPER_F4.FInC![i]!, 3), r.coldMs.finc, r.coldMs.raster, r.relDiffWfRaster.toExponential(1)];
    }),
    notes: [
      `params ${rows.find((r) => r.backend === b.short)?.params ?? '?'} (FInC model at the first size); paper ratios from F4's ~12.5M-parameter GPU arrays (batch unknown)`,
      'cold = the first sample() of a freshly built model (weights uploaded, kernels first used); warm = median of the alternating rounds after it',
      'on a CPU both schedules do the same work in the same order (Δ 0); the wavefront\'s gain is its H+W−1 parallel depth, which a GPU needs and 1–2 threads do not',
    ],
  }));
}

function paperF4Table(): Table {
  return {
    title: 'papers, F4 (GPU, ~12.5M-parameter models, batch unknown): sampling time in seconds vs image size',
    header: ['model', ...F4_SIZES.map(([h, w]) => `${h}×${w}`)],
    rows: Object.entries(PAPER_F4).map(([k, v]) => [k, ...v.map(String)]),
    notes: ['docs/papers.md §3 (F4: raw arrays of timing_comparision.py); at 64×64 CInC is 19× and Emerging 42× FInC there'],
  };
}
