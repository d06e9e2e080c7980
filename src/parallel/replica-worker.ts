/**
 * A data-parallel replica: a worker thread with its own one-thread wasm engine and a copy of the
 * model, running the shards the calling thread hands it (programs.ts). It never draws random
 * numbers: noise, timesteps and latents come in the message, so its results match the caller's.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createEngine } from '../engine/dispatcher.js';
import type { Module } from '../nn/module.js';
import { buildReplica, runProgram } from './programs.js';
import type { FromReplica, ReplicaWorkerInit, StateEntries, ToReplica } from './protocol.js';

const port = parentPort!;
const init = workerData as ReplicaWorkerInit;
const post = (m: FromReplica, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const oneLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** The first load must cover every tensor; later ones carry only what changed. */
const load = (model: Module, state: StateEntries, strict: boolean): void => model.loadStateDict(new Map(state), { strict });

async function start(): Promise<Module> {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = buildReplica(engine, init.spec);
  load(model, init.state, true);
  return model;
}

const ready = start();
ready.then(() => post({ type: 'ready' }), (e: unknown) => post({ type: 'failed', error: oneLine(e) }));

/** Set when new weights could not be loaded: every later shard is refused with this reason. */
let broken: string | null = null;

// One message at a time, in order: a state update always lands before the shard sent after it.
let queue: Promise<unknown> = ready;
port.on('message', (m: ToReplica) => {
  queue = queue.then(async () => {
    const model = await ready;
    if (m.type === 'close') {
      model.engine.dispose();
      port.close();
      return;
    }
    if (m.type === 'state') {
      try {
        load(model, m.state, false);
      } catch (e) {
        // A replica with stale weights would answer wrongly without a word: it refuses every later shard instead.
        broken = `could not take the model's new weights: ${oneLine(e)}`;
        post({ type: 'failed', error: broken });
      }
      return;
    }
    if (broken) return post({ type: 'error', id: m.id, error: broken });
    try {
      model.train(m.training);
      const result = await runProgram(model, m.program, m.args as never);
      const transfer = [...(result.out ? [result.out.buffer as ArrayBuffer] : []), ...(result.grads ?? []).map((g) => g.buffer as ArrayBuffer)];
      post({ type: 'done', id: m.id, result }, transfer);
    } catch (e) {
      post({ type: 'error', id: m.id, error: oneLine(e) });
    }
  }).catch(() => undefined);
});
