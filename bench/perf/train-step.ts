// One training step (forward + backward + Adam) of inflow vs the same flow in tfjs. tfjs-backend-wasm
// has no Conv2DBackpropFilter kernel, so a tfjs user trains this flow on tfjs-backend-cpu; that is
// ~100× slower, so this task runs on a smaller model than the forward and sampling tasks.
import '@tensorflow/tfjs-backend-cpu';
import { mean, type Tensor } from '../../src/index.js';
import type { FlowModel } from '../../src/models/index.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { sig } from '../lib/compare.js';
import { sideBySide, type TimingPlan } from '../lib/timing.js';
import { flowPair, pixels } from '../peers/flow-pair.js';
import { TfjsFincFlow, tfjsTrainStep, toNhwc, type FlowShape } from '../peers/tfjs-flow.js';
import { tf } from '../tfjs.js';
import type { FlowEngine, FlowTask } from './flow.js';

export async function trainStepBench(shape: FlowShape, engines: FlowEngine[], n: number, plan: TimingPlan): Promise<FlowTask> {
  const dims = [n, ...shape.inputShape];
  const x = pixels(n, shape.inputShape, 2);
  process.stderr.write(`perf: train step, batch ${n}\n`);
  const pairs = await Promise.all(engines.map((e) => flowPair(e.engine, shape, x, n, false)));
  const models = pairs.map((p) => p.model);
  await tf.setBackend('cpu');
  const tflow = new TfjsFincFlow(shape, pairs[0]!.weights);
  const xt = toNhwc(x, dims);
  const opts = models.map((m) => new Optimizer(m.engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }));
  const tfOpt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const losses: number[][] = [...models.map(() => []), []];
  const calls = [
    ...models.map((m, i) => async () => losses[i]!.push(await inflowTrainStep(m, opts[i]!, x, dims))),
    async () => losses[models.length]!.push(tfjsTrainStep(tflow, tfOpt, xt)),
  ];
  const { timings } = await sideBySide(calls, plan);
  for (const o of opts) o.dispose();
  tfOpt.dispose();
  xt.dispose();
  tflow.dispose();
  await tf.setBackend('wasm');
  const params = models[0]!.paramCount();
  for (const m of models) m.dispose();
  const labels = [...engines.map((e) => e.label), 'tfjs-backend-cpu 4.22 (tfjs-wasm lacks Conv2DBackpropFilter)'];
  const ids = [...engines.map((e) => e.id), 'tfjs'];
  const first = losses.map((l) => l[0]!);
  return {
    task: 'train', batch: n, shape, params,
    contenders: timings.map((t, i) => ({ id: ids[i]!, label: labels[i]!, timing: t, imagesPerSecond: sig((n * 1000) / t.medianMs, 4) })),
    // The first step of each starts from the same weights and data: the same loss.
    check: { firstLossRelDiffTfjsVsInflow: sig(Math.abs(first[models.length]! - first[0]!) / Math.abs(first[0]!), 2), firstLoss: sig(first[0]!, 6) },
  };
}

/** The trainer's step without its bookkeeping: valueAndGrads of the mean bits/dim, then Adam. */
export async function inflowTrainStep(model: FlowModel, opt: Optimizer, x: Float32Array, shape: number[]): Promise<number> {
  const engine = model.engine;
  const params = model.parameters();
  await model.prepare();
  const { value, grads } = engine.valueAndGrads(() => mean(model.bitsPerDim(engine.tensor(x, shape))), params.map((p) => p.value));
  const loss = await value.item();
  value.dispose();
  opt.step(params, grads as Tensor[], 1e-3);
  for (const g of grads) g.dispose();
  return loss;
}
