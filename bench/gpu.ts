// The WebGPU benchmarks (the Node part of bench/gpu.sh), every section on webgpu 'tiled', webgpu
// 'simple' and wasm in one process (docs/webgpu-kernels.md): adapter, correctness against wasm, matmul
// and conv2d (forward and both adjoints) kernels, a UNet training step, diffusion sampling, FInC
// sampling of the papers' MNIST / CIFAR-10 models (docs/papers.md §1, F1), and the F4 size grid.
// A global time guard stops starting work once the budget is spent; the JSON (and its markdown
// tables, gpu.md beside it) is rewritten after every section, so a run cut short keeps what it had.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conv2d, conv2dGradFilter, conv2dGradInput, createEngine, matmul, models, type Engine, type Tensor } from '../src/index.js';
import { writeFileSync } from 'node:fs';
import { BUNDLED, diffusionSampling, fincSampling, unetStep, type Contender } from './gpu-models.js';
import { gpuMarkdown } from './gpu-table.js';
import { gpuTimestamps } from './gpu-timestamps.js';
import { relDiff, sig } from './lib/compare.js';
import { Deadline, timeGuarded } from './lib/deadline.js';
import { machineFacts } from './lib/machine.js';
import { uniform } from './lib/random.js';
import { writeJsonAtomic } from './lib/report.js';
import { gflops, type TimingPlan } from './lib/timing.js';

const HELP = `bash bench/gpu.sh [options]     (or: node --import tsx bench/gpu.ts [options])

WebGPU on this machine's GPU, each section on three contenders in one process: webgpu with the
tiled kernels, webgpu with the simple kernels, and wasm (all cores). Sections, in this order:
  correctness  WebGPU (both kernel sets) against wasm on odd shapes, and a flow's log p(x) / samples
  kernels      matmul at several sizes (some not multiples of the tiles), conv2d and its two adjoints
               at the flows' and the diffusion UNet's shapes (GFLOP/s, read-back included)
  finc         FInC sampling of 100 images: models/finc-mnist.safetensors, and the papers' MNIST
               and CIFAR-10 presets (fresh weights; the paper: 0.09 s and 0.41 s on a GPU); wasm
               samples 20 / 5 of the presets' images (its memory holds no more) and is scaled to 100
  diffusion    models/diffusion-mnist.safetensors, DDIM 50, guidance 2, batch 16: samples/s
  unet         that model's UNet: one training step's forward + backward, batch 16
  grid         FInC / raster / Emerging sampling by image size (default kernel set only)
GPU timestamps (timestamp-query) time the tiled 2048³ matmul where the adapter offers them.

Options:
  --smoke            tiny shapes and models, one repetition: checks the script (SwiftShader too)
  --allow-software   time a software adapter anyway (refused otherwise: its times say nothing)
  --budget-s <s>     stop starting new work after this many seconds (default 240; smoke 120);
                     what was measured is written, the rest is listed as skipped
  --out <file>       the JSON (default bench/results/gpu.json; smoke: gpu.smoke.json); the
                     markdown tables go beside it with .md
  --help             this text

Exit status: 0 when every WebGPU result agrees with wasm (rel. diff < 1e-3), 1 when not,
2 for a bad option, 3 for a software adapter without --allow-software.`;

const args = process.argv.slice(2);
const known = new Set(['--smoke', '--allow-software', '--help', '-h']);
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--out' || a === '--budget-s') { if (args[i + 1] === undefined) { console.error(`gpu: ${a} needs a value`); process.exit(2); } i++; continue; }
  if (!known.has(a)) { console.error(`gpu: unknown option '${a}' (--help lists them)`); process.exit(2); }
}
if (args.includes('--help') || args.includes('-h')) { console.log(HELP); process.exit(0); }
const smoke = args.includes('--smoke');
const allowSoftware = smoke || args.includes('--allow-software');
const valueOf = (flag: string) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1]! : undefined; };
const out = valueOf('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results', smoke ? 'gpu.smoke.json' : 'gpu.json');
const budgetArg = valueOf('--budget-s');
const budgetS = budgetArg === undefined ? (smoke ? 120 : 240) : Number(budgetArg);
if (!(budgetS > 0 && budgetS <= 3600)) { console.error(`gpu: --budget-s ${budgetArg} must be a number of seconds in (0, 3600]`); process.exit(2); }
const started = Date.now();
const deadline = Deadline.in(budgetS * 1000);
const PLAN: TimingPlan = smoke ? { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 } : { warmup: 2, reps: 10, minReps: 3, budgetMs: 1500 };
/** Agreement with wasm: f32 on both sides, different summation orders. */
const TOLERANCE = 1e-3;
const log = (s: string) => process.stderr.write(`gpu: ${s} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
/** The paper presets and the UNet want more than the default 2 GiB budget at batch 100; the GPU has far more. */
const memoryBudget = smoke ? undefined : 32 * 2 ** 30;
const budgetOpt = memoryBudget ? { memoryBudget } : {};

const gpu = await createEngine({ backend: 'webgpu', ...budgetOpt });
const d = gpu.info().details as Record<string, unknown>;
const adapter = { ...(d.adapter as Record<string, unknown>), software: d.software === true };
console.log(`adapter: ${JSON.stringify(adapter)}`);
if (adapter.software && !allowSoftware) {
  console.error('gpu: the adapter is a software one (SwiftShader or similar): its times say nothing about a GPU. Use --smoke, or --allow-software to time it anyway.');
  process.exit(3);
}
const wasm = await createEngine({ backend: 'wasm', ...budgetOpt });
const wasmThreads = (wasm.info().details as Record<string, unknown> | undefined)?.threads ?? null;
// Both WebGPU kernel sets (docs/webgpu-kernels.md): 'tiled' is the default on hardware adapters, 'simple' on software ones.
const SETS = ['simple', 'tiled'] as const;
const bySet = { simple: await createEngine({ backend: 'webgpu', webgpuKernels: 'simple', ...budgetOpt }), tiled: await createEngine({ backend: 'webgpu', webgpuKernels: 'tiled', ...budgetOpt }) };
console.log(`default kernel set: ${String(d.kernels)} (${String(d.kernelsWhy)})`);
/** Every timed section runs on these, webgpu first: a run the guard cuts short keeps the GPU rows. */
const contenders: Contender[] = [{ id: 'webgpu tiled', engine: bySet.tiled }, { id: 'webgpu simple', engine: bySet.simple }, { id: 'wasm', engine: wasm }];

const skipped: string[] = [];
const result: Record<string, unknown> = { suite: 'gpu', smoke, machine: machineFacts(), adapter, wasmThreads, budgetSeconds: budgetS };
/** Written after every section: a run stopped from outside keeps what it measured. */
function save(): void {
  result.wallSeconds = Math.round((Date.now() - started) / 100) / 10;
  result.timeGuard = { budgetSeconds: budgetS, hit: skipped.length > 0, skipped };
  writeJsonAtomic(out, result);
  writeFileSync(out.replace(/\.json$/, '') + '.md', gpuMarkdown(result));
}
/** A section runs only with time left; one that is not run is listed. */
const open = (name: string): boolean => {
  if (!deadline.passed()) { log(name); return true; }
  skipped.push(`${name}: not started`);
  return false;
};

async function run(e: Engine, f: () => Tensor): Promise<Float32Array> {
  const t = e.scope(f);
  const v = await t.data();
  t.dispose();
  return v;
}

// ---- correctness: the same ops and the same model on WebGPU and wasm ----
log('correctness');
const correctness: Record<string, number | boolean> = {};
{
  const [N, Ci, Co, H] = smoke ? [2, 8, 16, 8] : [8, 64, 64, 16];
  const x = uniform(N * Ci * H * H, 1), w = uniform(Co * Ci * 9, 2, 1 / Math.sqrt(Ci * 9));
  const both = await Promise.all([gpu, wasm].map((e) => run(e, () => conv2d(e.tensor(x, [N, Ci, H, H]), e.tensor(w, [Co, Ci, 3, 3]), { pad: 'same' }))));
  correctness.conv2dRelDiff = sig(relDiff(both[0]!, both[1]!), 2);
  const cfg = smoke ? 'tiny' : { inputShape: [1, 28, 28] as [number, number, number], levels: 2, steps: 4, width: 64 };
  const n = smoke ? 2 : 8;
  const ms = [gpu, wasm].map((e) => models.fincFlow(cfg, { engine: e, seed: 0 }));
  for (const m of ms) m.markInitialized();
  const shape = ms[0]!.config.model.inputShape;
  const px = uniform(n * shape.reduce((a, b) => a * b, 1), 3, 127).map((v) => v + 128);
  const lp = await Promise.all(ms.map((m) => run(m.engine, () => m.logProb(m.engine.tensor(px, [n, ...shape])))));
  correctness.logProbRelDiff = sig(relDiff(lp[0]!, lp[1]!), 2);
  const smp = await Promise.all(ms.map(async (m) => { const t = await m.sample(n, { seed: 4, output: 'flow' }); const v = await t.data(); t.dispose(); return v; }));
  correctness.sampleRelDiff = sig(relDiff(smp[0]!, smp[1]!), 2);
  for (const m of ms) m.dispose();
  // Each kernel set on odd shapes (not multiples of the tiles), forward and both convolution adjoints.
  const [Mo, Ko, No] = smoke ? [37, 19, 45] : [333, 257, 129];
  const a = uniform(Mo * Ko, 9), b = uniform(No * Ko, 10);
  const [cn, cc, co, ch] = smoke ? [2, 5, 7, 9] : [4, 37, 29, 19];
  const cx = uniform(cn * cc * ch * ch, 11), cw = uniform(co * cc * 9, 12, 1 / Math.sqrt(cc * 9)), cdy = uniform(cn * co * ch * ch, 13);
  const g = { pad: 'same' as const, stride: 1 };
  const probes: Record<string, (e: Engine) => Tensor> = {
    matmul: (e) => matmul(e.tensor(a, [Mo, Ko]), e.tensor(b, [No, Ko]), { transposeB: true }),
    conv2d: (e) => conv2d(e.tensor(cx, [cn, cc, ch, ch]), e.tensor(cw, [co, cc, 3, 3]), g),
    conv2dGradInput: (e) => conv2dGradInput(e.tensor(cdy, [cn, co, ch, ch]), e.tensor(cw, [co, cc, 3, 3]), [cn, cc, ch, ch], g),
    conv2dGradFilter: (e) => conv2dGradFilter(e.tensor(cx, [cn, cc, ch, ch]), e.tensor(cdy, [cn, co, ch, ch]), [co, cc, 3, 3], g),
  };
  const setDiffs: number[] = [];
  for (const [op, f] of Object.entries(probes)) {
    const want = await run(wasm, () => f(wasm));
    for (const set of SETS) {
      const diff = sig(relDiff(await run(bySet[set], () => f(bySet[set])), want), 2);
      correctness[`${op}.${set}RelDiff`] = diff;
      setDiffs.push(diff);
    }
  }
  correctness.ok = [correctness.conv2dRelDiff, correctness.logProbRelDiff, correctness.sampleRelDiff, ...setDiffs].every((v) => (v as number) < TOLERANCE);
  correctness.tolerance = TOLERANCE;
}
console.log(`correctness vs wasm: ${JSON.stringify(correctness)}`);
result.correctness = correctness;
save();

// ---- kernels: every shape on every contender ----
type KernelShape = { op: 'conv' | 'convGradInput' | 'convGradFilter'; N: number; Ci: number; Co: number; k: number; H: number } | { op: 'matmul'; M: number; K: number; Nn: number };
const kernelShapes: KernelShape[] = smoke
  ? [{ op: 'conv', N: 2, Ci: 8, Co: 8, k: 3, H: 8 }, { op: 'convGradInput', N: 2, Ci: 8, Co: 8, k: 3, H: 8 },
    { op: 'convGradFilter', N: 2, Ci: 8, Co: 8, k: 3, H: 8 }, { op: 'matmul', M: 64, K: 64, Nn: 64 }, { op: 'matmul', M: 37, K: 19, Nn: 45 }]
  : [
    // Square products, then ones that are not multiples of any tile (edges, narrow blocks).
    { op: 'matmul', M: 512, K: 512, Nn: 512 }, { op: 'matmul', M: 1024, K: 1024, Nn: 1024 }, { op: 'matmul', M: 2048, K: 2048, Nn: 2048 },
    { op: 'matmul', M: 1000, K: 999, Nn: 1001 }, { op: 'matmul', M: 3137, K: 257, Nn: 129 }, { op: 'matmul', M: 3136, K: 512, Nn: 512 },
    // The FInC MNIST coupling network's convolutions, batch 16 (docs/webgpu-kernels.md §6).
    { op: 'conv', N: 16, Ci: 2, Co: 512, k: 3, H: 14 }, { op: 'conv', N: 16, Ci: 512, Co: 512, k: 1, H: 14 }, { op: 'conv', N: 16, Ci: 512, Co: 8, k: 3, H: 7 },
    // The diffusion-mnist UNet (base 32 × [1, 2, 2], 28×28) at a guided batch of 16 (32 images), forward and both adjoints.
    { op: 'conv', N: 32, Ci: 32, Co: 32, k: 3, H: 28 }, { op: 'convGradInput', N: 32, Ci: 32, Co: 32, k: 3, H: 28 }, { op: 'convGradFilter', N: 32, Ci: 32, Co: 32, k: 3, H: 28 },
    { op: 'conv', N: 32, Ci: 128, Co: 64, k: 3, H: 14 }, { op: 'convGradInput', N: 32, Ci: 128, Co: 64, k: 3, H: 14 }, { op: 'convGradFilter', N: 32, Ci: 128, Co: 64, k: 3, H: 14 },
    // A wider UNet layer (bench/unet.ts trains 32×32 images).
    { op: 'conv', N: 16, Ci: 128, Co: 128, k: 3, H: 32 }, { op: 'convGradInput', N: 16, Ci: 128, Co: 128, k: 3, H: 32 }, { op: 'convGradFilter', N: 16, Ci: 128, Co: 128, k: 3, H: 32 },
  ];
const kernels: Array<Record<string, unknown>> = [];
result.kernels = kernels;
if (open('kernels')) {
  const section = deadline.sub(60_000);
  for (const s of kernelShapes) {
    if (section.passed()) break;
    let flops: number, name: string;
    const rows = [];
    for (const c of contenders) {
      const e = c.engine;
      let keep: Tensor[], f: () => Tensor;
      if (s.op === 'matmul') {
        const { M, K, Nn } = s;
        keep = [e.tensor(uniform(M * K, 7), [M, K]), e.tensor(uniform(K * Nn, 8, 0.05), [K, Nn])].map((t) => t.keep());
        flops = 2 * M * K * Nn;
        name = `matmul ${M}×${K}·${K}×${Nn}`;
        f = () => matmul(keep[0]!, keep[1]!);
      } else {
        const { N, Ci, Co, k, H } = s;
        // x, w and dy (the output's shape, 'same' padding): every variant has the forward's FLOPs.
        keep = [e.tensor(uniform(N * Ci * H * H, 5), [N, Ci, H, H]), e.tensor(uniform(Co * Ci * k * k, 6, 0.05), [Co, Ci, k, k]),
          e.tensor(uniform(N * Co * H * H, 14), [N, Co, H, H])].map((t) => t.keep());
        flops = 2 * N * H * H * Co * Ci * k * k;
        const g = { pad: 'same' as const };
        const [x, w, dy] = keep as [Tensor, Tensor, Tensor];
        f = s.op === 'conv' ? () => conv2d(x, w, g) : s.op === 'convGradInput' ? () => conv2dGradInput(dy, w, x.shape, g) : () => conv2dGradFilter(x, dy, w.shape, g);
        name = `${s.op} ${k}×${k} ${Ci}→${Co} @${H}×${H} batch ${N}`;
      }
      try {
        const g = await timeGuarded(() => run(e, f), PLAN, section);
        rows.push('skipped' in g ? { contender: c.id, timing: null, skipped: g.skipped }
          : { contender: c.id, timing: g.timing, gflops: sig(gflops(flops!, g.timing.medianMs), 3), ...(g.cut ? { cut: true } : {}) });
      } finally {
        for (const t of keep) t.dispose();
      }
    }
    kernels.push({ name: name!, flops: flops!, includesReadback: true, rows });
  }
  if (section.passed()) skipped.push('kernels: cut by the time guard');
  save();
}

// ---- GPU time of one kernel from timestamp queries, where the adapter has them ----
if (open('timestamps')) {
  try {
    result.timestamps = await gpuTimestamps(deadline.sub(15_000), smoke);
  } catch (e) {
    result.timestamps = { available: false, why: `failed: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` };
  }
  save();
}

// ---- FInC sampling: the papers' presets, 100 images (F1) ----
const sampling: unknown[] = [];
result.sampling = sampling;
if (open('finc sampling')) {
  // The papers' presets first: they are what the 0.09 s / 0.41 s compare with. The cold call compiles, so no warmup.
  const section = deadline.sub(smoke ? 60_000 : 80_000);
  sampling.push(...await fincSampling(contenders, { presets: smoke ? ['tiny'] : ['mnist', 'cifar10', BUNDLED], batch: smoke ? 2 : 100,
    wasmBatch: smoke ? {} : { [BUNDLED]: 100, mnist: 20, cifar10: 5 },
    plan: smoke ? PLAN : { warmup: 0, reps: 3, minReps: 1, budgetMs: 4000 }, deadline: section }));
  if (section.passed()) skipped.push('finc sampling: cut by the time guard');
  save();
}

// ---- diffusion sampling: the bundled generator, DDIM 50, batch 16 ----
if (open('diffusion sampling')) {
  const section = deadline.sub(smoke ? 60_000 : 50_000);
  result.diffusion = await diffusionSampling(contenders, { smoke, batch: smoke ? 1 : 16, plan: smoke ? PLAN : { warmup: 0, reps: 2, minReps: 1, budgetMs: 10_000 }, deadline: section });
  if (section.passed()) skipped.push('diffusion sampling: cut by the time guard');
  save();
}

// ---- UNet training step (forward + backward) ----
if (open('unet step')) {
  const section = deadline.sub(smoke ? 60_000 : 35_000);
  result.unetStep = await unetStep(contenders, { smoke, batch: smoke ? 1 : 16, plan: smoke ? PLAN : { warmup: 1, reps: 5, minReps: 2, budgetMs: 5000 }, deadline: section });
  if (section.passed()) skipped.push('unet step: cut by the time guard');
  save();
}

// ---- the F4 size grid, on the adapter's default kernel set ----
const grid: Array<Record<string, number>> = [];
result.grid = grid;
if (open('grid')) {
  const gridPlan: TimingPlan = smoke ? PLAN : { warmup: 1, reps: 3, minReps: 1, budgetMs: 5000 };
  for (const [H, W] of smoke ? [[8, 8]] : [[8, 8], [16, 16], [32, 32], [64, 64]]) {
    if (deadline.passed()) { skipped.push(`grid ${H}×${W}: not started`); continue; }
    const cfg = { inputShape: [3, H!, W!] as [number, number, number], levels: 2, steps: 4, width: 64 };
    const row: Record<string, number> = { H: H!, W: W!, batch: smoke ? 2 : 16 };
    for (const [id, build, alg] of [['finc', models.fincFlow, 'wavefront'], ['raster', models.fincFlow, 'raster'], ['emerging', models.emerging, 'raster']] as const) {
      const m = build(cfg, { engine: gpu, seed: 0 });
      m.markInitialized();
      m.setSolveAlgorithm(alg);
      const g = await timeGuarded(async () => { const t = await m.sample(row.batch!, { seed: 1 }); const v = await t.data(); t.dispose(); return v; }, gridPlan, deadline);
      m.dispose();
      if ('skipped' in g) break;
      row[`${id}Ms`] = g.timing.medianMs;
    }
    if (row.fincMs && row.rasterMs) row.rasterOverFinc = sig(row.rasterMs / row.fincMs, 3);
    if (row.fincMs && row.emergingMs) row.emergingOverFinc = sig(row.emergingMs / row.fincMs, 3);
    grid.push(row);
  }
  save();
}

save();
console.log(JSON.stringify({ kernels, sampling, diffusion: result.diffusion, unetStep: result.unetStep, grid, timeGuard: result.timeGuard }, null, 1));
console.log(`gpu: ${String(result.wallSeconds)} s → ${out} and ${out.replace(/\.json$/, '')}.md`);
gpu.dispose();
wasm.dispose();
for (const set of SETS) bySet[set].dispose();
process.exit(correctness.ok ? 0 : 1);
