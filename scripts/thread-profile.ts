// Per-op time of one forward pass of the bundled flow on wasm, 1 vs 2 threads: which ops dominate,
// how much of the pass is outside kernels, and how long the calling thread waits for workers.
// Usage: nice -n 19 node --no-liftoff --import tsx scripts/thread-profile.ts [batch=32] [reps=5]
// Findings: docs/thread-scaling.md. Instrumentation is by wrapping, so the engine is unchanged.
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { loadModel } from '../src/io/model-file.js';
import { pixels } from '../bench/peers/flow-pair.js';
import { median } from '../bench/lib/timing.js';

const MODEL = fileURLToPath(new URL('../models/finc-mnist.safetensors', import.meta.url));
const batch = Number(process.argv[2] ?? 32);
const reps = Number(process.argv[3] ?? 5);
if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(reps) || reps < 1) {
  console.error('usage: thread-profile.ts [batch ≥ 1] [reps ≥ 1]');
  process.exit(2);
}

interface OpStat { calls: number; ms: number; parallel: number; waitMs: number }
// Every threaded dispatch wakes the workers with one Atomics.notify and waits with Atomics.wait (src/backends/wasm/pool.ts).
let notifies = 0, waitMs = 0, profiling = false;
const realNotify = Atomics.notify, realWait = Atomics.wait;
Atomics.notify = ((...a: Parameters<typeof Atomics.notify>) => { if (profiling) notifies++; return realNotify(...a); }) as typeof Atomics.notify;
Atomics.wait = ((...a: Parameters<typeof Atomics.wait>) => {
  const t0 = performance.now();
  const r = realWait(...a);
  if (profiling) waitMs += performance.now() - t0;
  return r;
}) as typeof Atomics.wait;

for (const threads of [1, 2]) {
  const engine = await createEngine({ backend: 'wasm', threads });
  const flow = await loadModel(MODEL, { engine });
  const shape = flow.config.model.inputShape;
  const x = pixels(batch, shape, 1);
  const stats = new Map<string, OpStat>();
  const kernels = engine.backend.kernels as Record<string, (i: unknown, o: unknown, a: unknown) => void>;
  for (const [name, fn] of Object.entries(kernels)) {
    kernels[name] = (i, o, a) => {
      if (!profiling) return fn(i, o, a);
      const n0 = notifies, w0 = waitMs, t0 = performance.now();
      fn(i, o, a);
      const s = stats.get(name) ?? { calls: 0, ms: 0, parallel: 0, waitMs: 0 };
      s.calls++; s.ms += performance.now() - t0; s.parallel += notifies - n0; s.waitMs += waitMs - w0;
      stats.set(name, s);
    };
  }
  const pass = async () => {
    const lp = engine.noGrad(() => engine.scope(() => flow.logProb(engine.tensor(x, [batch, ...shape]))));
    await lp.data();
    lp.dispose();
  };
  for (let i = 0; i < 3; i++) await pass();
  const totals: number[] = [];
  profiling = true;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await pass();
    totals.push(performance.now() - t0);
  }
  profiling = false;
  const total = median(totals);
  const kernelMs = [...stats.values()].reduce((s, v) => s + v.ms, 0) / reps;
  const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`\n${threads} thread(s), batch ${batch}: forward median ${total.toFixed(1)} ms over ${reps} passes; in kernels ${kernelMs.toFixed(1)} ms/pass (${((100 * kernelMs) / total).toFixed(0)}%), outside ${(total - kernelMs).toFixed(1)} ms`);
  console.log('op'.padEnd(22) + 'calls/pass'.padStart(11) + 'ms/pass'.padStart(10) + '%'.padStart(6) + 'threaded'.padStart(10) + 'wait ms'.padStart(9));
  for (const [name, s] of rows) {
    const ms = s.ms / reps;
    console.log(name.padEnd(22) + String(s.calls / reps).padStart(11) + ms.toFixed(2).padStart(10) + ((100 * ms) / total).toFixed(1).padStart(6)
      + String(s.parallel / reps).padStart(10) + (s.waitMs / reps).toFixed(2).padStart(9));
  }
  flow.dispose();
  engine.dispose();
}
process.exit(0);
