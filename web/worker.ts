/// <reference lib="webworker" />
// The engine lives here, not on the page: a sampling batch can take seconds on a CPU and the page
// must keep responding (and wasm threads may block with Atomics.wait only off the main thread).
import { createEngine, loadModel, setWasmUrls, type Engine, type models, type Tensor } from 'inflow';
import type { Reply, Request } from './protocol.js';
import { disposeAnonymize, runAnonymize } from './anonymize-worker.js';
import { disposeTasks, loadTask, runTask } from './task-worker.js';

type FlowModel = models.FlowModel;

let engine: Engine | null = null;
let model: FlowModel | null = null;

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (e: MessageEvent<Request>) => {
  const req = e.data;
  try {
    const reply = await handle(req);
    scope.postMessage(reply, transferables(reply));
  } catch (err) {
    scope.postMessage({ id: req.id, type: 'error', message: readable(err) } satisfies Reply);
  }
};

async function handle(req: Request): Promise<Reply> {
  switch (req.type) {
    case 'init': {
      disposeTasks();
      disposeAnonymize();
      model?.dispose();
      engine?.dispose();
      model = engine = null;
      const t0 = performance.now();
      if (req.wasmBase) {
        setWasmUrls({ single: new URL('inflow-single.wasm', req.wasmBase), threads: new URL('inflow-threads.wasm', req.wasmBase) });
      }
      engine = await createEngine({ backend: req.backend });
      model = await loadModel(req.modelUrl, { engine });
      const info = engine.info();
      return {
        id: req.id, type: 'init',
        result: {
          backend: info.backend, why: info.why, details: info.details as Record<string, unknown>,
          rejected: info.rejected as Record<string, string>, fallbacks: info.fallbacks,
          inputShape: model.config.model.inputShape, classes: model.classes, loadMs: performance.now() - t0,
        },
      };
    }
    case 'sample': {
      const m = ready();
      const t0 = performance.now();
      const x = await m.sample(req.n, { temperature: req.temperature, seed: req.seed, output: 'flow', ...(req.labels ? { labels: req.labels } : {}) });
      const flow = await x.data();
      const shape = x.shape as [number, number, number, number];
      x.dispose();
      return { id: req.id, type: 'sample', result: { pixels: toPixels(m, flow), flow, shape, ms: performance.now() - t0 } };
    }
    case 'score': {
      const m = ready();
      const t0 = performance.now();
      const [C, H, W] = m.config.model.inputShape;
      const e = m.engine;
      const x = e.tensor(req.pixels, [1, C, H, W]);
      // With a class prior: log p(x | y) for each y gives both p(x) and p(y | x); the round trip uses the likeliest y.
      // The pad's values are dequantised pixels by construction (its background is ½): range 'pixels', so a faint drawing is not refused as normalised.
      const perClass = m.prior ? e.scope(() => m.classLogProbs(x, { range: 'pixels' })) : null;
      const logp = perClass ? await perClass.data() : new Float32Array();
      const probs = posterior(logp);
      const labels = probs.length ? [probs.indexOf(Math.max(...probs))] : undefined;
      const { bpd, flow } = e.scope(() => {
        const bpd = perClass ? m.bitsPerDimFromClasses(perClass) : m.bitsPerDim(x, { range: 'pixels' });
        const { z } = m.encode(m.preprocess.encode(x).y, labels);
        return { bpd, flow: m.decode(z, labels) };
      });
      const [bits, back] = await Promise.all([bpd.data(), flow.data()]);
      for (const t of [x, bpd, flow, perClass] as Tensor[]) t?.dispose();
      return { id: req.id, type: 'score', result: { bitsPerDim: bits[0]!, reconstruction: toPixels(m, back), classProbs: probs, ms: performance.now() - t0 } };
    }
    case 'task-load': {
      if (!engine) throw new Error('the engine is not started yet');
      return { id: req.id, type: 'task-load', result: await loadTask(engine, req.task, req.modelUrl) };
    }
    case 'task-run': {
      const progress = (done: number, total: number): void => scope.postMessage({ id: req.id, type: 'progress', done, total } satisfies Reply);
      return { id: req.id, type: 'task-run', result: await runTask(req, progress) };
    }
    case 'anonymize': {
      if (!engine) throw new Error('the engine is not started yet');
      return { id: req.id, type: 'anonymize', result: await runAnonymize(engine, req) };
    }
  }
}

function ready(): FlowModel {
  if (!model) throw new Error('no model is loaded yet');
  return model;
}

/** The Preprocess decode (sigmoid, then undo the α squeeze) on the host, clamped to [0, 256] as FlowModel.sample does. */
function toPixels(m: FlowModel, flow: Float32Array): Float32Array {
  const { alpha: a, levels } = m.preprocess.config;
  const out = new Float32Array(flow.length);
  for (let i = 0; i < flow.length; i++) {
    const v = (levels / (1 - 2 * a)) / (1 + Math.exp(-flow[i]!)) - a * levels;
    out[i] = Math.min(levels, Math.max(0, v));
  }
  return out;
}

function transferables(reply: Reply): Transferable[] {
  if (reply.type === 'sample') return [reply.result.pixels.buffer, reply.result.flow.buffer];
  if (reply.type === 'score') return [reply.result.reconstruction.buffer];
  if (reply.type === 'anonymize') return [reply.result.rgba.buffer];
  if (reply.type === 'task-run') {
    const r = reply.result;
    return [r.input.data.buffer, r.output.data.buffer, ...(r.reference ? [r.reference.data.buffer] : []), ...(r.mask ? [r.mask.buffer] : [])];
  }
  return [];
}

function readable(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** p(y | x) ∝ p(x | y) with equal class weights: only the top latent's term differs between classes. */
function posterior(logp: Float32Array): number[] {
  if (!logp.length) return [];
  const top = Math.max(...logp);
  const w = Array.from(logp, (v) => Math.exp(v - top));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / total);
}
