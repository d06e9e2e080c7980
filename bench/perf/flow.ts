// The whole FInC flow, inflow vs the same flow written in tfjs: forward log-likelihood and sampling,
// on the same weights; the tfjs outputs are checked against inflow's.
import type { Engine } from '../../src/index.js';
import type { FlowModel } from '../../src/models/index.js';
import { relDiff, sig } from '../lib/compare.js';
import { sideBySide, type Timing, type TimingPlan } from '../lib/timing.js';
import { flowPair, pixels } from '../peers/flow-pair.js';
import { toNhwc, type FlowShape } from '../peers/tfjs-flow.js';
import { nchwToNhwc, tf } from '../tfjs.js';

export interface FlowContender { id: string; label: string; timing: Timing; imagesPerSecond: number }
export interface FlowTask {
  task: 'forward' | 'train' | 'sample'; batch: number; contenders: FlowContender[]; check: Record<string, number>;
  /** Set where the task ran on another model than the suite's main one. */
  shape?: FlowShape; params?: number;
}
export interface FlowEngine { id: string; label: string; engine: Engine }

const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);

export async function flowBench(shape: FlowShape, engines: FlowEngine[], batches: { forward: number; sample: number },
  plans: { fast: TimingPlan; slow: TimingPlan }, onTask: () => void): Promise<{ tasks: FlowTask[]; params: number; memory: Record<string, unknown> }> {
  const [C, H, W] = shape.inputShape;
  const B = batches.forward;
  const x = pixels(B, shape.inputShape, 1);
  // Every pair holds the same weights (same seed, same init batch); one tfjs port serves them all.
  const pairs = await Promise.all(engines.map((e, i) => flowPair(e.engine, shape, x, B, i === 0)));
  const tflow = pairs[0]!.tfjs!;
  const models = pairs.map((p) => p.model);
  const tasks: FlowTask[] = [];
  const memory: Record<string, unknown> = { rssMiBAfterSetup: rss() };

  const row = (task: FlowTask['task'], batch: number, ids: string[], labels: string[], timings: Timing[], check: Record<string, number>) => {
    tasks.push({ task, batch, check, contenders: timings.map((t, i) => ({ id: ids[i]!, label: labels[i]!, timing: t, imagesPerSecond: sig((batch * 1000) / t.medianMs, 4) })) });
    memory[`rssMiBAfter_${task}`] = rss();
    onTask();
  };
  const ids = [...engines.map((e) => e.id), 'tfjs'];
  const labels = [...engines.map((e) => e.label), 'tfjs-wasm 4.22 (XNNPACK, 1 thread)'];

  // ---- forward log-likelihood ----
  {
    const n = batches.forward, xs = x.subarray(0, n * C * H * W);
    const xt = toNhwc(xs, [n, C, H, W]);
    process.stderr.write(`perf: flow forward, batch ${n}\n`);
    const calls = [
      ...models.map((m) => async () => { const lp = m.engine.scope(() => m.logProb(m.engine.tensor(xs, [n, C, H, W]))); await lp.data(); return lp; }),
      async () => { const lp = tf.tidy(() => tflow.logProb(xt)); await lp.data(); return lp; },
    ];
    const { timings, coldResults } = await sideBySide(calls, plans.fast);
    const outs = await Promise.all(coldResults.map(async (r) => (r as { data(): Promise<ArrayLike<number>> }).data()));
    memory.engineBytesForward = Object.fromEntries(engines.map((e) => [e.id, e.engine.memory().bytes]));
    memory.tfjsBytesForward = tf.memory().numBytes;
    for (const r of coldResults) (r as { dispose(): void }).dispose();
    xt.dispose();
    row('forward', n, ids, labels, timings, { logProbRelDiffTfjsVsInflow: sig(relDiff(outs[outs.length - 1]!, outs[0]!), 2),
      logProbRelDiffThreads: sig(relDiff(outs[1] ?? outs[0]!, outs[0]!), 2) });
  }

  // ---- sampling: inflow's wavefront solve (and its raster baseline) vs the tfjs fixed-point loop ----
  {
    const n = batches.sample;
    process.stderr.write(`perf: flow sampling, batch ${n}\n`);
    const m0 = models[0]!;
    await m0.prepare();
    const zs = await Promise.all(m0.sampleLatents(n, { seed: 5 }).map(async (z) => { const d = await z.data(); const s = [...z.shape]; z.dispose(); return toNhwc(d, s); }));
    const sampleCall = (m: FlowModel, alg: 'wavefront' | 'raster') => async () => { m.setSolveAlgorithm(alg); const s = await m.sample(n, { seed: 5 }); await s.data(); return s; };
    const calls = [...models.map((m) => sampleCall(m, 'wavefront')), sampleCall(models[0]!, 'raster'), async () => { const s = tflow.sample(zs); await s.data(); return s; }];
    const { timings, coldResults } = await sideBySide(calls, plans.slow);
    models[0]!.setSolveAlgorithm('wavefront');
    const outs = await Promise.all(coldResults.map(async (r) => (r as { data(): Promise<Float32Array> }).data()));
    for (const r of coldResults) (r as { dispose(): void }).dispose();
    for (const z of zs) z.dispose();
    const inflowNhwc = nchwToNhwc(outs[0]!, [n, C, H, W]);
    let maxAbs = 0;
    const t = outs[outs.length - 1]!;
    for (let i = 0; i < t.length; i++) maxAbs = Math.max(maxAbs, Math.abs(t[i]! - inflowNhwc[i]!));
    const e0 = engines[0]!;
    row('sample', n, [...engines.map((e) => e.id), `${e0.id}-raster`, 'tfjs'],
      [...engines.map((e) => `${e.label}, wavefront`), `${e0.label}, raster (CInC-style) inverse`, 'tfjs-wasm, fixed-point loop over the wavefront steps'],
      timings, { sampleMaxAbsPixelDiffTfjsVsInflow: sig(maxAbs, 2), sampleRelDiffRasterVsWavefront: sig(relDiff(outs[engines.length]!, outs[0]!), 2) });
  }

  memory.engineBytesEnd = Object.fromEntries(engines.map((e) => [e.id, e.engine.memory().bytes]));
  memory.maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  const params = models[0]!.paramCount();
  for (const m of models) m.dispose();
  tflow.dispose();
  return { tasks, params, memory };
}
