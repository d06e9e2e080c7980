/**
 * The worker's code as a plain JS string: workers get no TypeScript loader (vitest runs TS through
 * vite, workers bypass it), and a string works as a Node eval worker and as a browser Blob URL.
 *
 * Protocol (Int32 control block `ctl` in shared memory, args as Float64 right after it):
 *   ctl[0] job generation (bumped by the main thread, workers Atomics.wait on it)
 *   ctl[1] done count      ctl[2] export index (−1 = quit)   ctl[3] arg count
 *   ctl[4] error flag      ctl[5] thread count for this job
 *   ctl[6] task counter the kernels claim chunks from (assembly/common.ts), zeroed per job
 * Each worker runs export(args..., tid, nthreads) and bumps ctl[1]; the last one notifies.
 */
export const CTL_INTS = 16;
export const MAX_ARGS = 32;
/** Int32 index of the shared task counter in the control block. */
export const TASK_COUNTER = 6;
export const CTL_BYTES = CTL_INTS * 4 + MAX_ARGS * 8;

export const workerSource = `
'use strict';
const nodeWorker = typeof process === 'object' && process.versions && process.versions.node && typeof require === 'function';
const port = nodeWorker ? require('node:worker_threads').parentPort : self;
function send(m) { port.postMessage(m); }
function start(msg) {
  const { module, memory, names, ctlPtr, tid } = msg;
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  inst.exports.setTaskCounter(ctlPtr + ${TASK_COUNTER * 4});
  const fns = names.map((n) => inst.exports[n]);
  const ctl = new Int32Array(memory.buffer, ctlPtr, ${CTL_INTS});
  const args = new Float64Array(memory.buffer, ctlPtr + ${CTL_INTS * 4}, ${MAX_ARGS});
  let gen = Atomics.load(ctl, 0);
  send('ready');
  for (;;) {
    Atomics.wait(ctl, 0, gen);
    gen = Atomics.load(ctl, 0);
    const op = ctl[2];
    if (op < 0) return;
    const nt = ctl[5];
    const a = Array.from(args.subarray(0, ctl[3]));
    a.push(tid, nt);
    try { fns[op](...a); } catch (e) { Atomics.store(ctl, 4, 1); }
    if (Atomics.add(ctl, 1, 1) + 1 === nt - 1) Atomics.notify(ctl, 1);
  }
}
if (nodeWorker) port.once('message', start);
else self.onmessage = (e) => { self.onmessage = null; start(e.data); };
`;
