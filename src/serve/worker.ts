/**
 * An inference worker: its own engine and its own copy of every served model, so inference runs off
 * the server's event loop and N workers run N batches at once. It runs one batch at a time, as the
 * pool sends them (src/serve/pool.ts), and reports its engine's memory after each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from '../engine/dispatcher.js';
import type { Engine } from '../engine/engine.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import type { LoadedModel } from './registry.js';
import { modelRuntimes } from './runtimes.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.replace(/^createEngine: /, '');

let engine: Engine | null = null;
const models = new Map<string, LoadedModel>();

const memory = (): { bytes: number; tensors: number } => {
  const m = engine!.memory();
  return { bytes: m.bytes, tensors: m.tensors };
};

async function start(): Promise<void> {
  try {
    engine = await createEngine(init.engine);
  } catch (e) {
    return post({ type: 'fatal', error: oneLine(e) });
  }
  for (const { name, path, kind } of init.models) {
    try {
      const runtime = modelRuntimes.find((r) => r.kind === kind);
      if (!runtime) throw new Error(`no runtime for models of kind '${kind}'`);
      const loaded = await runtime.load(path, engine);
      models.set(name, loaded);
      await loaded.warmUp();
    } catch (e) {
      return post({ type: 'fatal', error: `model '${name}' (${path}): ${oneLine(e)}` });
    }
  }
  post({ type: 'ready', backend: engine.name, memory: memory() });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'close') {
    for (const m of models.values()) m.dispose();
    engine?.dispose();
    port.close();
    return;
  }
  const model = models.get(msg.model)!;
  model.run(msg.endpoint, msg.payloads).then(
    ({ results, transfer }) => post({ type: 'done', id: msg.id, results, memory: memory() }, transfer),
    (e) => post({ type: 'done', id: msg.id, results: msg.payloads.map(() => ({ failed: true, status: 500, error: `internal error: ${oneLine(e)}` })), memory: memory() }),
  );
});

void start();
