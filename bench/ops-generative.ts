// The ops of image generative models in the ops suite: strided, depthwise and transposed convolution,
// GroupNorm, softmax and attention, inflow wasm (1 and all threads) against tfjs-wasm and, where it has
// the op, onnxruntime-node (1 and all threads), the same data in each, checked against tfjs before timing.
import { attention, conv2d, convTranspose2d, groupNorm, softmax, type Engine, type Tensor } from '../src/index.js';
import { relDiff, sig } from './lib/compare.js';
import { uniform } from './lib/random.js';
import type { Finish, SuiteContext } from './lib/suite.js';
import { gflops, release, sideBySide, type TimingPlan } from './lib/timing.js';
import { imageOpTables, type OpCell, type OpRow } from './ops-tables.js';
import { tfjsAndInflowContenders } from './ops.js';
import { attention as onnxAttention, conv as onnxConv, groupNorm as onnxGroupNorm, OnnxGraph, ortOptions, ortPeers } from './peers/onnx.js';
import { loadOrt } from './perf/conv-stack.js';
import { nchwToNhwc, oihwToHwio, tf } from './tfjs.js';

const BATCH = 16;
/**
 * More timed calls than the conv2d / matmul rows: most of these ops take 0.5–20 ms, where one
 * disturbed call on a shared machine moves a median of 9 by 10–30 %.
 */
const PLAN: TimingPlan = { warmup: 2, reps: 15, minReps: 7, budgetMs: 3000 };
const QUICK_PLAN: TimingPlan = { warmup: 1, reps: 3, minReps: 2, budgetMs: 1000 };
type Ort = typeof import('onnxruntime-node');
type Input = { data: Float32Array; shape: number[] };

/** One shape of one op, stated once for every layout: inflow and ONNX are NCHW / OIHW, tfjs NHWC / HWIO. */
interface OpCase {
  op: 'conv2d-strided' | 'conv2d-depthwise' | 'convTranspose2d' | 'groupNorm' | 'softmax' | 'attention';
  name: string;
  dims: Record<string, number | string>;
  /** Multiply-adds × 2 for the compute-bound ops; null for the memory-bound ones (GroupNorm, softmax). */
  flops: number | null;
  /** Bytes a memory-bound op must move at least (read x once, write y once, float32). */
  bytes: number;
  inflowInputs: Input[];
  inflow(ts: readonly Tensor[]): Tensor;
  tfjsInputs: Input[];
  tfjs(ts: readonly tf.Tensor[]): tf.Tensor;
  /** Which tfjs ops compute it (composed where tfjs has no such op). */
  tfjsHow: string;
  /** inflow's (and ONNX's) output in tfjs's layout, for the agreement check. */
  toTfjsLayout(out: Float32Array): Float32Array;
  /** The ONNX graph with the weights as initializers and the feeds, in inflow's layout. */
  onnx: { how: string; build(): { model: Uint8Array; feeds: Record<string, Input> } };
}

const tfPad = (t: number, l: number, b: number, r: number): [[number, number], [number, number], [number, number], [number, number]] => [[0, 0], [t, b], [l, r], [0, 0]];

function stridedConv(N: number, C: number, H: number, seed: number): OpCase {
  const k = 3, s = 2, Ho = H / s, W = H;
  const x = uniform(N * C * H * W, seed), w = uniform(C * C * k * k, seed + 1, 1 / Math.sqrt(C * k * k));
  return {
    op: 'conv2d-strided', name: `conv 3×3/2 ${C}→${C} @${H}×${W}`, dims: { N, Ci: C, Co: C, H, W, k, stride: s, pad: 1 },
    flops: 2 * N * Ho * Ho * C * C * k * k, bytes: 4 * (x.length + N * C * Ho * Ho),
    inflowInputs: [{ data: x, shape: [N, C, H, W] }, { data: w, shape: [C, C, k, k] }],
    inflow: ([a, b]) => conv2d(a!, b!, { stride: s, pad: 1 }),
    tfjsInputs: [{ data: nchwToNhwc(x, [N, C, H, W]), shape: [N, H, W, C] }, { data: oihwToHwio(w, [C, C, k, k]), shape: [k, k, C, C] }],
    // Explicit padding: tfjs 'same' at stride 2 pads 0 on top and 1 below, not 1 and 1.
    tfjs: ([a, b]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, tfPad(1, 1, 1, 1)),
    tfjsHow: 'tf.conv2d, strides 2, explicit padding 1',
    toTfjsLayout: (out) => nchwToNhwc(out, [N, C, Ho, Ho]),
    onnx: { how: 'Conv strides 2', build: () => single([N, C, H, W], [N, C, Ho, Ho], (g, xi) => onnxConv(g, xi, g.init('w', [C, C, k, k], w), null, { k, stride: s, pad: 1 }, 'y'), x) },
  };
}

function depthwiseConv(N: number, C: number, H: number, seed: number): OpCase {
  const k = 3, W = H;
  const x = uniform(N * C * H * W, seed), w = uniform(C * k * k, seed + 1, 1 / 3);
  return {
    op: 'conv2d-depthwise', name: `depthwise 3×3 ${C} ch @${H}×${W}`, dims: { N, C, H, W, k, groups: C, pad: 'same' },
    flops: 2 * N * H * W * C * k * k, bytes: 4 * 2 * x.length,
    inflowInputs: [{ data: x, shape: [N, C, H, W] }, { data: w, shape: [C, 1, k, k] }],
    inflow: ([a, b]) => conv2d(a!, b!, { groups: C, pad: 'same' }),
    // [C, 1, k, k] → [k, k, 1, C] is [k, k, C, 1] in memory: tfjs's depthwise filter, multiplier 1.
    tfjsInputs: [{ data: nchwToNhwc(x, [N, C, H, W]), shape: [N, H, W, C] }, { data: oihwToHwio(w, [C, 1, k, k]), shape: [k, k, C, 1] }],
    tfjs: ([a, b]) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'),
    tfjsHow: 'tf.depthwiseConv2d',
    toTfjsLayout: (out) => nchwToNhwc(out, [N, C, H, W]),
    onnx: { how: 'Conv group = C', build: () => single([N, C, H, W], [N, C, H, W], (g, xi) => onnxConv(g, xi, g.init('w', [C, 1, k, k], w), null, { k, pad: 1, group: C }, 'y'), x) },
  };
}

/** PyTorch's ConvTranspose2d(C, C, k, stride 2, padding 1, outputPadding op): H → 2H for (k, op) = (4, 0) or (3, 1). */
function transposedConv(N: number, C: number, H: number, k: number, outPad: number, seed: number): OpCase {
  const s = 2, p = 1, Ho = (H - 1) * s - 2 * p + k + outPad, W = H;
  const x = uniform(N * C * H * W, seed), w = uniform(C * C * k * k, seed + 1, 1 / Math.sqrt(C * k * k / 4));
  return {
    op: 'convTranspose2d', name: `convT ${k}×${k}/2${outPad ? ' op1' : ''} ${C}→${C} @${H}→${Ho}`, dims: { N, Ci: C, Co: C, H, W, k, stride: s, padding: p, outputPadding: outPad },
    // Every input pixel meets every tap once: the same multiply-adds as the conv2d it is the adjoint of.
    flops: 2 * N * H * W * C * C * k * k, bytes: 4 * (x.length + N * C * Ho * Ho),
    inflowInputs: [{ data: x, shape: [N, C, H, W] }, { data: w, shape: [C, C, k, k] }],
    inflow: ([a, b]) => convTranspose2d(a!, b!, { stride: s, padding: p, outputPadding: outPad }),
    // [Cin, Cout, k, k] → [k, k, Cout, Cin]: tfjs's [kh, kw, outChannels, inChannels], no flip.
    tfjsInputs: [{ data: nchwToNhwc(x, [N, C, H, W]), shape: [N, H, W, C] }, { data: oihwToHwio(w, [C, C, k, k]), shape: [k, k, C, C] }],
    // The conv2d this is the adjoint of pads p on top/left and p − outputPadding below/right.
    tfjs: ([a, b]) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [N, Ho, Ho, C], s, tfPad(p, p, p - outPad, p - outPad)),
    tfjsHow: 'tf.conv2dTranspose, explicit padding',
    toTfjsLayout: (out) => nchwToNhwc(out, [N, C, Ho, Ho]),
    onnx: {
      how: 'ConvTranspose', build: () => single([N, C, H, W], [N, C, Ho, Ho], (g, xi) => g.op('ConvTranspose', [xi, g.init('w', [C, C, k, k], w)],
        { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], output_padding: [outPad, outPad] }, 'y'), x),
    },
  };
}

function groupNormCase(N: number, C: number, H: number, G: number, seed: number): OpCase {
  const W = H, eps = 1e-5;
  // An offset and a spread per channel, so the normalisation does visible work.
  const x = uniform(N * C * H * W, seed).map((v, i) => 3 * v + 2 * Math.sin(Math.floor(i / (H * W)) % C));
  const gamma = uniform(C, seed + 1, 0.5).map((v) => 1 + v), beta = uniform(C, seed + 2, 0.5);
  return {
    op: 'groupNorm', name: `GroupNorm ${G} groups [${N}, ${C}, ${H}, ${W}]`, dims: { N, C, H, W, groups: G },
    flops: null, bytes: 4 * 2 * x.length,
    inflowInputs: [{ data: x, shape: [N, C, H, W] }, { data: gamma, shape: [C] }, { data: beta, shape: [C] }],
    inflow: ([a, g, b]) => groupNorm(a!, G, { weight: g!, bias: b!, eps }),
    tfjsInputs: [{ data: nchwToNhwc(x, [N, C, H, W]), shape: [N, H, W, C] }, { data: gamma, shape: [C] }, { data: beta, shape: [C] }],
    tfjs: ([a, g, b]) => tf.tidy(() => {
      const r = tf.reshape(a!, [N, H, W, G, C / G]);
      const { mean, variance } = tf.moments(r, [1, 2, 4], true);
      const y = tf.reshape(tf.mul(tf.sub(r, mean), tf.rsqrt(tf.add(variance, eps))), [N, H, W, C]);
      return tf.add(tf.mul(y, g!), b!);
    }),
    tfjsHow: 'composed (it has no GroupNorm op): reshape → tf.moments → (x − μ)·rsqrt(σ² + ε) → ·γ + β',
    toTfjsLayout: (out) => nchwToNhwc(out, [N, C, H, W]),
    onnx: { how: 'GroupNormalization (opset 21)', build: () => single([N, C, H, W], [N, C, H, W], (g, xi) => onnxGroupNorm(g, xi, G, gamma, beta, eps, 'y'), x, 21) },
  };
}

function softmaxCase(rows: number, cols: number, why: string, seed: number): OpCase {
  const x = uniform(rows * cols, seed, 4);
  return {
    op: 'softmax', name: `softmax [${rows}, ${cols}] (${why})`, dims: { rows, cols, axis: -1 },
    flops: null, bytes: 4 * 2 * x.length,
    inflowInputs: [{ data: x, shape: [rows, cols] }], inflow: ([a]) => softmax(a!, -1),
    tfjsInputs: [{ data: x, shape: [rows, cols] }], tfjs: ([a]) => tf.softmax(a!), tfjsHow: 'tf.softmax',
    toTfjsLayout: (out) => out,
    onnx: { how: 'Softmax axis −1', build: () => single([rows, cols], [rows, cols], (g, xi) => g.op('Softmax', [xi], { axis: -1 }, 'y'), x) },
  };
}

function attentionCase(B: number, N: number, d: number, why: string, seed: number): OpCase {
  const q = uniform(B * N * d, seed), k = uniform(B * N * d, seed + 1), v = uniform(B * N * d, seed + 2);
  const scale = 1 / Math.sqrt(d), shape = [B, N, d];
  return {
    op: 'attention', name: `attention B·h ${B}, N ${N}, d ${d} (${why})`, dims: { B, N, d },
    flops: 4 * B * N * N * d, bytes: 4 * 4 * q.length,
    inflowInputs: [q, k, v].map((data) => ({ data, shape })), inflow: ([a, b, c]) => attention(a!, b!, c!),
    tfjsInputs: [q, k, v].map((data) => ({ data, shape })),
    tfjs: ([a, b, c]) => tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(a!, b!, false, true), scale)), c!)),
    tfjsHow: 'composed (it has no attention op): tf.matMul(q, k, false, true) · scale → tf.softmax → tf.matMul(·, v)',
    toTfjsLayout: (out) => out,
    onnx: {
      how: 'Transpose + MatMul + Mul + Softmax + MatMul',
      build: () => {
        const g = new OnnxGraph('attention');
        for (const n of ['q', 'k', 'v']) g.input(n, shape);
        onnxAttention(g, 'q', 'k', 'v', scale, 3, 'y');
        g.output('y', shape);
        return { model: g.model(17), feeds: { q: { data: q, shape }, k: { data: k, shape }, v: { data: v, shape } } };
      },
    },
  };
}

/** A one-input graph x → y. */
function single(xShape: number[], yShape: number[], body: (g: OnnxGraph, x: string) => void, x: Float32Array, opset = 17) {
  const g = new OnnxGraph();
  body(g, g.input('x', xShape));
  g.output('y', yShape);
  return { model: g.model(opset), feeds: { x: { data: x, shape: xShape } } };
}

/** The shapes: those of a diffusion UNet at 32×32 (batch 16, channels 64–256, attention over 8×8 and 16×16 maps with 4 heads). */
export const generativeCases = (N: number): OpCase[] => [
  stridedConv(N, 64, 32, 101),
  stridedConv(N, 128, 16, 111),
  depthwiseConv(N, 64, 32, 121),
  depthwiseConv(N, 256, 16, 131),
  transposedConv(N, 64, 16, 4, 0, 141),
  transposedConv(N, 64, 16, 3, 1, 151),
  groupNormCase(N, 128, 32, 32, 161),
  groupNormCase(N, 256, 16, 32, 171),
  softmaxCase(N * 4 * 64, 64, 'attention scores, N 64', 181),
  softmaxCase(N * 4 * 256, 256, 'attention scores, N 256', 191),
  attentionCase(N * 4, 64, 32, '8×8 map', 201),
  attentionCase(N * 4, 256, 32, '16×16 map', 211),
];

export async function runGenerativeOpsBench(ctx: SuiteContext): Promise<Finish> {
  const plan = ctx.quick ? QUICK_PLAN : PLAN;
  const { ort, why: ortMissing, version: ortVersion } = await loadOrt();
  const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
  const peers = ort ? ortPeers(ortVersion, ctx.threadsAll) : [];
  const ortThreads = peers.map((p) => p.threads);
  if (!ort) notes.push(`onnxruntime-node did not load: ${ortMissing}`);

  const rows: OpRow[] = [];
  for (const c of generativeCases(BATCH)) {
    process.stderr.write(`ops: ${c.name}\n`);
    const tfIn = c.tfjsInputs.map((i) => tf.tensor(i.data, i.shape));
    const engIn = contenders.map((ct) => (ct.engine ? c.inflowInputs.map((i) => ct.engine!.tensor(i.data, i.shape)) : []));
    const calls: Array<() => unknown> = contenders.map((ct, i) => (ct.engine ? inflowCall(ct.engine, () => c.inflow(engIn[i]!)) : () => c.tfjs(tfIn)));
    const sessions = ort ? await ortSessions(ort, c, ortThreads) : [];
    for (const s of sessions) calls.push(s.call);
    const { timings, coldResults } = await sideBySide(calls, plan);
    const tfjsOut = Float32Array.from((coldResults[0] as tf.Tensor).dataSync());
    const cells: Record<string, OpCell> = {};
    const all = [...contenders, ...peers];
    for (let i = 0; i < all.length; i++) {
      const ct = all[i]!, t = timings[i]!, out = coldResults[i];
      let diff: number | null = null;
      if (i > 0) {
        const got = i < contenders.length ? await (out as Tensor).data() : (out as { data: Float32Array }).data;
        diff = sig(relDiff(c.toTfjsLayout(got), tfjsOut));
      }
      release(out);
      cells[ct.id] = {
        ...t, batch: BATCH, threads: ct.threads, relDiffVsTfjs: diff,
        gflops: c.flops === null ? null : sig(gflops(c.flops, t.medianMs), 4), pctPeak: null,
        gbps: sig(c.bytes / t.medianMs / 1e6, 4),
      };
    }
    for (const s of sessions) await s.release();
    for (const t of tfIn) t.dispose();
    for (const ins of engIn) for (const t of ins) t.dispose();
    const ratio = (id: string, over = 'tfjs') => (cells[id] && cells[over] ? sig(cells[over]!.medianMs / cells[id]!.medianMs, 3) : null);
    const minRatio = (id: string) => (cells[id] ? sig(cells.tfjs!.minMs / cells[id]!.minMs, 3) : null);
    ctx.peak.sample();
    rows.push({
      op: c.op, name: c.name, dims: c.dims, flops: c.flops, bytes: c.bytes, tfjsHow: c.tfjsHow, onnxHow: ort ? c.onnx.how : null, results: cells,
      // tfjs time over inflow time: ≥ 1 means inflow is at least as fast.
      ratioVsTfjs: { wasm1: ratio('wasm1'), wasmN: ratio('wasmN') },
      ratioVsTfjsOfMin: { wasm1: minRatio('wasm1'), wasmN: minRatio('wasmN') },
      ratioVsOrt: { wasm1_over_ort1: ratio('wasm1', 'ort1'), wasmN_over_ortN: ratio('wasmN', 'ortN') },
    });
    const bad = Object.entries(cells).filter(([, v]) => v.relDiffVsTfjs !== null && !(v.relDiffVsTfjs < 1e-3));
    if (bad.length) notes.push(`${c.name}: disagrees with tfjs (${bad.map(([k, v]) => `${k} ${v.relDiffVsTfjs}`).join(', ')})`);
  }
  for (const ct of contenders) ct.engine?.dispose();
  return (peak) => {
    for (const r of rows) for (const cell of Object.values(r.results)) if (cell.gflops !== null) cell.pctPeak = sig((100 * cell.gflops) / (peak * cell.threads), 3);
    const all = [...contenders.map(({ id, label, threads }) => ({ id, label, threads })), ...peers];
    return {
      tables: imageOpTables(rows, all, { peak, batch: BATCH, notes }),
      data: { batch: BATCH, tfjs: tfjsFacts, onnxruntime: ort ? { version: ortVersion, threads: ortThreads } : { missing: ortMissing }, contenders: all, plan, rows, notes },
    };
  };
}

/** Scoped, so the intermediates of a multi-kernel op (GroupNorm's statistics) are freed inside the timing. */
const inflowCall = (engine: Engine, fn: () => Tensor) => () => engine.scope(fn);

async function ortSessions(ort: Ort, c: OpCase, threads: number[]) {
  const { model, feeds } = c.onnx.build();
  const feed = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.shape)]));
  return Promise.all(threads.map(async (t) => {
    const session = await ort.InferenceSession.create(model, ortOptions(t));
    return { call: async () => (await session.run(feed)).y, release: () => session.release() };
  }));
}
