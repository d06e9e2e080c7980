// The WebGPU benchmarks (the Node part of bench/gpu.sh): adapter, correctness against wasm, conv /
// matmul GFLOP/s, sampling the papers' MNIST / CIFAR-10 models (docs/papers.md §1, F1), and the F4 size grid.
// `--smoke`: tiny sizes, meant for SwiftShader (correctness only). `--out FILE`: where the JSON goes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conv2d, conv2dGradFilter, conv2dGradInput, createEngine, matmul, models, type Engine, type Tensor } from '../src/index.js';
import type { FlowModel } from '../src/models/index.js';
import { relDiff, sig } from './lib/compare.js';
import { machineFacts } from './lib/machine.js';
import { uniform } from './lib/random.js';
import { writeJsonAtomic } from './lib/report.js';
import { gflops, round3, sideBySide, type TimingPlan } from './lib/timing.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const allowSoftware = smoke || args.includes('--allow-software');
const outIdx = args.indexOf('--out');
const out = outIdx >= 0 ? args[outIdx + 1]! : join(dirname(fileURLToPath(import.meta.url)), 'results', smoke ? 'gpu.smoke.json' : 'gpu.json');
const started = Date.now();
const PLAN: TimingPlan = smoke ? { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 } : { warmup: 2, reps: 10, minReps: 5, budgetMs: 4000 };
/** Agreement with wasm: f32 on both sides, different summation orders. */
const TOLERANCE = 1e-3;
const log = (s: string) => process.stderr.write(`gpu: ${s}\n`);

const gpu = await createEngine({ backend: 'webgpu' });
const d = gpu.info().details as Record<string, unknown>;
const adapter = { ...(d.adapter as Record<string, unknown>), software: d.software === true };
console.log(`adapter: ${JSON.stringify(adapter)}`);
if (adapter.software && !allowSoftware) {
  console.error('gpu: the adapter is a software one (SwiftShader or similar): its times say nothing about a GPU. Use --smoke, or --allow-software to time it anyway.');
  process.exit(3);
}
const wasm = await createEngine({ backend: 'wasm' });
// Both WebGPU kernel sets (docs/webgpu-kernels.md): 'tiled' is the default on hardware adapters, 'simple' on software ones.
const SETS = ['simple', 'tiled'] as const;
const bySet = { simple: await createEngine({ backend: 'webgpu', webgpuKernels: 'simple' }), tiled: await createEngine({ backend: 'webgpu', webgpuKernels: 'tiled' }) };
console.log(`default kernel set: ${String(d.kernels)} (${String(d.kernelsWhy)})`);

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

// ---- kernels ----
log('kernels');
const kernelShapes = smoke
  ? [{ op: 'conv', N: 2, Ci: 8, Co: 8, k: 3, H: 8 }, { op: 'convGradInput', N: 2, Ci: 8, Co: 8, k: 3, H: 8 },
    { op: 'convGradFilter', N: 2, Ci: 8, Co: 8, k: 3, H: 8 }, { op: 'matmul', M: 64, K: 64, Nn: 64 }]
  : [{ op: 'conv', N: 16, Ci: 2, Co: 512, k: 3, H: 14 }, { op: 'conv', N: 16, Ci: 512, Co: 512, k: 1, H: 14 }, { op: 'conv', N: 16, Ci: 512, Co: 8, k: 3, H: 7 },
    { op: 'conv', N: 64, Ci: 256, Co: 256, k: 3, H: 16 },
    // The training step's two adjoints at a UNet-like layer (bench/unet.ts trains 32×32 images).
    { op: 'convGradInput', N: 16, Ci: 128, Co: 128, k: 3, H: 32 }, { op: 'convGradFilter', N: 16, Ci: 128, Co: 128, k: 3, H: 32 },
    { op: 'matmul', M: 3136, K: 512, Nn: 512 }, { op: 'matmul', M: 2048, K: 2048, Nn: 2048 }];
const kernels = [];
for (const set of SETS) for (const s of kernelShapes) {
  const gpu = bySet[set];
  let flops: number, name: string, call: () => Promise<unknown>, keep: Tensor[];
  if (s.op.startsWith('conv')) {
    const { N, Ci, Co, k, H } = s as { N: number; Ci: number; Co: number; k: number; H: number };
    // x, w and dy (the output's shape, 'same' padding): every variant has the forward's FLOPs.
    keep = [gpu.tensor(uniform(N * Ci * H * H, 5), [N, Ci, H, H]), gpu.tensor(uniform(Co * Ci * k * k, 6, 0.05), [Co, Ci, k, k]),
      gpu.tensor(uniform(N * Co * H * H, 14), [N, Co, H, H])].map((t) => t.keep());
    flops = 2 * N * H * H * Co * Ci * k * k;
    const g = { pad: 'same' as const };
    const [x, w, dy] = keep as [Tensor, Tensor, Tensor];
    const f = s.op === 'conv' ? () => conv2d(x, w, g)
      : s.op === 'convGradInput' ? () => conv2dGradInput(dy, w, x.shape, g) : () => conv2dGradFilter(x, dy, w.shape, g);
    name = `${s.op === 'conv' ? 'conv' : s.op} ${k}×${k} ${Ci}→${Co} @${H}×${H} batch ${N}`;
    call = async () => { const y = gpu.scope(f); await y.data(); return y; };
  } else {
    const { M, K, Nn } = s as { M: number; K: number; Nn: number };
    keep = [gpu.tensor(uniform(M * K, 7), [M, K]), gpu.tensor(uniform(K * Nn, 8, 0.05), [K, Nn])].map((t) => t.keep());
    flops = 2 * M * K * Nn;
    name = `matmul ${M}×${K}·${K}×${Nn}`;
    call = async () => { const y = gpu.scope(() => matmul(keep[0]!, keep[1]!)); await y.data(); return y; };
  }
  const { timings: [t] } = await sideBySide([call], PLAN);
  kernels.push({ name: `${name} [${set}]`, kernels: set, flops, coldMs: t!.coldMs, medianMs: t!.medianMs, gflops: sig(gflops(flops, t!.medianMs), 3), includesReadback: true });
  for (const k of keep) k.dispose();
}

// ---- sampling: the papers' presets, 100 images (F1), and the F4 size grid ----
log('sampling');
const PAPER_S100: Record<string, number> = { mnist: 0.09, cifar10: 0.41 };
async function timeSample(m: FlowModel, n: number, plan: TimingPlan) {
  const { timings: [t] } = await sideBySide([async () => { const s = await m.sample(n, { seed: 1 }); await s.data(); return s; }], plan);
  return t!;
}
const sampling = [];
for (const preset of smoke ? ['tiny'] : ['mnist', 'cifar10']) {
  const m = models.fincFlow(preset, { engine: gpu, seed: 0 });
  m.markInitialized();
  const n = smoke ? 2 : 100;
  const t = await timeSample(m, n, smoke ? PLAN : { warmup: 1, reps: 3, minReps: 2, budgetMs: 20000 });
  sampling.push({ preset, params: m.paramCount(), batch: n, coldMs: t.coldMs, medianMs: t.medianMs,
    secondsPer100: round3((t.medianMs / 1000) * (100 / n)), paperSecondsPer100: PAPER_S100[preset] ?? null, paperSource: 'F1 (GPU), docs/papers.md §1' });
  m.dispose();
}
const grid = [];
for (const [H, W] of smoke ? [[8, 8]] : [[8, 8], [16, 16], [32, 32], [64, 64]]) {
  const cfg = { inputShape: [3, H!, W!] as [number, number, number], levels: 2, steps: 4, width: 64 };
  const row: Record<string, number> = { H: H!, W: W!, batch: smoke ? 2 : 16 };
  for (const [id, build, alg] of [['finc', models.fincFlow, 'wavefront'], ['raster', models.fincFlow, 'raster'], ['emerging', models.emerging, 'raster']] as const) {
    const m = build(cfg, { engine: gpu, seed: 0 });
    m.markInitialized();
    m.setSolveAlgorithm(alg);
    row[`${id}Ms`] = (await timeSample(m, row.batch!, smoke ? PLAN : { warmup: 1, reps: 3, minReps: 2, budgetMs: 5000 })).medianMs;
    m.dispose();
  }
  row.rasterOverFinc = sig(row.rasterMs! / row.fincMs!, 3);
  row.emergingOverFinc = sig(row.emergingMs! / row.fincMs!, 3);
  grid.push(row);
}

const result = { suite: 'gpu', smoke, machine: machineFacts(), adapter, correctness, kernels, sampling, grid, wallSeconds: Math.round((Date.now() - started) / 100) / 10 };
writeJsonAtomic(out, result);
console.log(JSON.stringify({ kernels, sampling, grid }, null, 1));
console.log(`gpu: ${result.wallSeconds} s → ${out}`);
gpu.dispose();
wasm.dispose();
for (const set of SETS) bySet[set].dispose();
process.exit(correctness.ok ? 0 : 1);
