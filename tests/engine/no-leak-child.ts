// Run by tests/engine/no-leak.test.ts as `node --expose-gc --import tsx tests/engine/no-leak-child.ts`:
// bitsPerDim(16) + sample(16) on a tiny model in a loop, without any scope, dropping both results
// without dispose(). The garbage collector's finalizers (src/engine/tensor.ts) must reclaim them.
// Prints one JSON line: live tensors and RSS after a full collection, every 25 rounds.
import { createEngine } from '../../src/engine/dispatcher.js';
import * as models from '../../src/models/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Collects until the live count stops changing: finalizers run in tasks after a collection. */
async function collect(engine: { memory(): { tensors: number } }): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 0));
    const now = engine.memory().tensors;
    if (now === last) return now;
    last = now;
  }
  return last;
}

const rounds = Number(process.argv[2] ?? 300);
const engine = await createEngine({ backend: 'wasm', threads: 1 });
const flow = models.fincFlow('tiny', { engine, seed: 0 });
const x = engine.tensor(new Float32Array(16 * 64).map((_, i) => ((i * 37) % 256) + 0.5), [16, 1, 8, 8]);
flow.initialize(x);
const points: Array<{ round: number; tensors: number; bytes: number; rss: number }> = [];
const t0 = performance.now();
for (let r = 1; r <= rounds; r++) {
  flow.bitsPerDim(x);
  await flow.sample(16, { seed: r });
  if (r % 25 === 0 || r === 1) {
    const tensors = await collect(engine);
    points.push({ round: r, tensors, bytes: engine.memory().bytes, rss: process.memoryUsage().rss });
  }
}
const ms = performance.now() - t0;
x.dispose();
flow.dispose();
const end = await collect(engine);
console.log(JSON.stringify({ points, ms, afterDispose: end }));
engine.dispose();
process.exit(0);
