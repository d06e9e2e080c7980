import { Worker } from 'node:worker_threads';

/**
 * Workers get no TypeScript loader: the compiled package (dist/) starts `<name>.js`; a source
 * checkout has only `<name>.ts`, which the worker compiles through tsx (a devDependency) as
 * src/cli/inflow.mjs does for the CLI. An eval'd bootstrap does either, so the same code runs in
 * both layouts and under vitest. Paths are absolute: an eval worker resolves imports against the
 * working directory. A worker that cannot start posts `failure` with its one-line `error`.
 */
const BOOT = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.boot.tsx) (await import(workerData.boot.tsx)).register();
  await import(workerData.boot.entry);
})().catch((e) => parentPort.postMessage({ ...workerData.boot.failure, error: 'worker failed to start: ' + String(e && e.message || e).split('\\n')[0] }));
`;

/** Starts the module `name` beside `callerUrl` (the caller's import.meta.url) in a worker thread with `workerData` (plus `boot`). */
export function startModuleWorker(callerUrl: string, name: string, workerData: object, failure: Record<string, unknown>): Worker {
  const compiled = callerUrl.endsWith('.js');
  const boot = {
    entry: new URL(`./${name}.${compiled ? 'js' : 'ts'}`, callerUrl).href,
    tsx: compiled ? null : import.meta.resolve('tsx/esm/api'),
    failure,
  };
  return new Worker(BOOT, { eval: true, workerData: { ...workerData, boot } });
}
