/**
 * The annotation page's engine worker: it owns the engine and the ActiveLearner, so MC-dropout
 * acquisition and retraining (seconds to minutes of wasm) never block the server's event loop —
 * the page keeps polling and a bad request is still answered at once while a round runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from '../../engine/dispatcher.js';
import type { Engine } from '../../engine/engine.js';
import { ActiveLearner } from '../learner.js';
import type { AnnotateWorkerInit, FromAnnotateWorker, ToAnnotateWorker } from './protocol.js';

const port = parentPort!;
const init = workerData as AnnotateWorkerInit;
const post = (m: FromAnnotateWorker): void => port.postMessage(m);
const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

let engine: Engine | null = null;
let learner: ActiveLearner | null = null;
// Rounds run one after another even if the server sent two (it does not: it waits for each).
let queue: Promise<void> = Promise.resolve();

async function round(m: Extract<ToAnnotateWorker, { type: 'round' }>): Promise<void> {
  const l = learner!;
  if (m.indices.length) l.addLabels(m.indices, m.labels);
  let scores = null;
  const t0 = performance.now();
  if (l.labelledCount > 0) {
    // Progress at most ~20 times a round: enough for the status line, little traffic.
    const every = Math.max(1, Math.floor(l.retrainOptions.steps / 20));
    await l.retrain((done, total) => { if (done % every === 0 || done === total) post({ type: 'progress', id: m.id, done, total }); });
    scores = await l.evaluate();
  }
  const t1 = performance.now();
  const batch = m.batch > 0 ? (await l.acquire(m.acquisition, m.batch)).indices : [];
  post({ type: 'round', id: m.id, scores, batch, trainSeconds: (t1 - t0) / 1000, acquireSeconds: (performance.now() - t1) / 1000 });
}

port.on('message', (m: ToAnnotateWorker) => {
  if (m.type === 'close') {
    void queue.finally(() => {
      learner?.dispose();
      engine?.dispose();
      port.close();
    });
    return;
  }
  queue = queue.then(() => round(m)).catch((e) => post({ type: 'failed', id: m.id, error: oneLine(e) }));
});

try {
  engine = await createEngine(init.engine);
  learner = new ActiveLearner(engine, init.pool, init.test, {
    classifier: init.classifier, retrain: init.retrain, mcPasses: init.mcPasses, seed: init.seed, batchBald: { samples: init.jointSamples },
  });
  post({ type: 'ready', backend: engine.name });
} catch (e) {
  post({ type: 'failed', id: null, error: oneLine(e).replace(/^createEngine: /, '') });
}
