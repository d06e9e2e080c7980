// The coupling network's forward (conv3×3 → ReLU → conv1×1 → ReLU → conv3×3) in inflow, tfjs-wasm and
// onnxruntime-node, the same weights and the same input, timed in alternating rounds.
import { conv2d, relu, type Engine, type Tensor } from '../../src/index.js';
import { relDiff, sig } from '../lib/compare.js';
import { uniform } from '../lib/random.js';
import { gflops, sideBySide, type TimingPlan } from '../lib/timing.js';
import { convStackModel, type ConvStackWeights } from '../peers/onnx.js';
import { nchwToNhwc, oihwToHwio, tf } from '../tfjs.js';

export interface StackShape { name: string; N: number; Ci: number; width: number; Co: number; H: number }

export interface StackRow {
  shape: StackShape; flops: number;
  contenders: Array<{ id: string; label: string; coldMs: number; medianMs: number; gflops: number; relDiff: number | null }>;
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node is optional: a machine where its native binding cannot load still runs the rest. */
export async function loadOrt(): Promise<{ ort: Ort | null; why: string | null; version: string | null }> {
  try {
    const ort = await import('onnxruntime-node');
    return { ort, why: null, version: (ort.env as { versions?: { common?: string } }).versions?.common ?? null };
  } catch (e) {
    return { ort: null, why: (e as Error).message.split('\n')[0]!, version: null };
  }
}

const flopsOf = (s: StackShape) => 2 * s.N * s.H * s.H * (s.Ci * s.width * 9 + s.width * s.width + s.width * s.Co * 9);

function weights(s: StackShape, seed: number): ConvStackWeights {
  return {
    w1: uniform(s.width * s.Ci * 9, seed, 1 / Math.sqrt(s.Ci * 9)), b1: uniform(s.width, seed + 1, 0.1),
    w2: uniform(s.width * s.width, seed + 2, 1 / Math.sqrt(s.width)), b2: uniform(s.width, seed + 3, 0.1),
    w3: uniform(s.Co * s.width * 9, seed + 4, 1 / Math.sqrt(s.width * 9)), b3: uniform(s.Co, seed + 5, 0.1),
  };
}

export async function convStackBench(shapes: StackShape[], engines: Array<{ id: string; label: string; engine: Engine }>,
  ort: Ort | null, threadsAll: number, plan: TimingPlan, onRow: () => void): Promise<StackRow[]> {
  const rows: StackRow[] = [];
  for (const [i, s] of shapes.entries()) {
    process.stderr.write(`perf: conv stack ${s.name}\n`);
    const w = weights(s, 100 + 10 * i);
    const x = uniform(s.N * s.Ci * s.H * s.H, 200 + i);
    const xShape = [s.N, s.Ci, s.H, s.H];
    const ids: string[] = [], labels: string[] = [], calls: Array<() => unknown> = [];
    const toLayout: Array<(r: unknown) => Promise<Float32Array>> = [];
    const cleanup: Array<() => void> = [];

    for (const e of engines) {
      const g = e.engine;
      const t = [g.tensor(x, xShape), g.tensor(w.w1, [s.width, s.Ci, 3, 3]), g.tensor(w.b1, [s.width]), g.tensor(w.w2, [s.width, s.width, 1, 1]),
        g.tensor(w.b2, [s.width]), g.tensor(w.w3, [s.Co, s.width, 3, 3]), g.tensor(w.b3, [s.Co])].map((a) => a.keep());
      const [tx, w1, b1, w2, b2, w3, b3] = t as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
      ids.push(e.id); labels.push(e.label);
      calls.push(async () => {
        const y = g.scope(() => conv2d(relu(conv2d(relu(conv2d(tx, w1, { bias: b1, pad: 'same' })), w2, { bias: b2 })), w3, { bias: b3, pad: 'same' }));
        await y.data();
        return y;
      });
      toLayout.push(async (r) => (r as Tensor).data());
      cleanup.push(() => { for (const a of t) a.dispose(); });
    }

    const tx = tf.tensor4d(nchwToNhwc(x, xShape), [s.N, s.H, s.H, s.Ci]);
    const tw = [tf.tensor4d(oihwToHwio(w.w1, [s.width, s.Ci, 3, 3]), [3, 3, s.Ci, s.width]), tf.tensor1d(w.b1),
      tf.tensor4d(oihwToHwio(w.w2, [s.width, s.width, 1, 1]), [1, 1, s.width, s.width]), tf.tensor1d(w.b2),
      tf.tensor4d(oihwToHwio(w.w3, [s.Co, s.width, 3, 3]), [3, 3, s.width, s.Co]), tf.tensor1d(w.b3)] as const;
    ids.push('tfjs'); labels.push('tfjs-wasm (XNNPACK, 1 thread)');
    calls.push(async () => {
      const y = tf.tidy(() => {
        const h1 = tf.relu(tf.add(tf.conv2d(tx, tw[0], 1, 'same'), tw[1])) as tf.Tensor4D;
        const h2 = tf.relu(tf.add(tf.conv2d(h1, tw[2], 1, 'valid'), tw[3])) as tf.Tensor4D;
        return tf.add(tf.conv2d(h2, tw[4], 1, 'same'), tw[5]);
      });
      await y.data();
      return y;
    });
    // tfjs is NHWC; back to NCHW so every contender is compared with inflow's layout.
    toLayout.push(async (r) => nhwcToNchw((await (r as tf.Tensor).data()) as Float32Array, [s.N, s.H, s.H, s.Co]));
    cleanup.push(() => { tx.dispose(); for (const a of tw) a.dispose(); });

    if (ort) {
      const bytes = convStackModel(s.N, s.Ci, s.width, s.Co, s.H, s.H, w);
      for (const threads of threadsAll > 1 ? [1, threadsAll] : [1]) {
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
        const feed = { x: new ort.Tensor('float32', x, xShape) };
        ids.push(`ort${threads}`); labels.push(`onnxruntime-node ${ort.env.versions.common} CPU, ${threads} thread${threads > 1 ? 's' : ''}`);
        calls.push(async () => (await session.run(feed)).y);
        toLayout.push(async (r) => (r as { data: Float32Array }).data);
        cleanup.push(() => { void session.release(); });
      }
    }

    const { timings, coldResults } = await sideBySide(calls, plan);
    const outs = await Promise.all(coldResults.map((r, k) => toLayout[k]!(r)));
    for (const r of coldResults) (r as { dispose?: () => void }).dispose?.();
    for (const c of cleanup) c();
    const flops = flopsOf(s);
    rows.push({
      shape: s, flops,
      contenders: timings.map((t, k) => ({ id: ids[k]!, label: labels[k]!, coldMs: t.coldMs, medianMs: t.medianMs,
        gflops: sig(gflops(flops, t.medianMs), 3), relDiff: k === 0 ? null : sig(relDiff(outs[k]!, outs[0]!), 2) })),
    });
    onRow();
  }
  return rows;
}

export function nhwcToNchw(x: Float32Array, [N, H, W, C]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++)
    for (let h = 0; h < H!; h++)
      for (let w = 0; w < W!; w++)
        for (let c = 0; c < C!; c++) out[((n * C! + c) * H! + h) * W! + w] = x[((n * H! + h) * W! + w) * C! + c]!;
  return out;
}
