import type { Backend, View } from '../backends/backend.js';
import { createReferenceBackend } from '../backends/reference/index.js';
import { fail } from './errors.js';

let reference: Backend | null = null;

/**
 * Runs a kernel the backend declared it cannot take on the reference backend, copying through host
 * memory. Only possible for backends that read synchronously (wasm); elsewhere the declared reason
 * becomes the error, so nothing is discovered by a throw inside a kernel.
 */
export function runWithFallback(backend: Backend, op: string, inputs: readonly View[], output: View,
  attrs: unknown, reason: string): void {
  const readSync = backend.readSync?.bind(backend);
  if (!readSync) fail(op, `the ${backend.name} backend cannot run this call: ${reason}`);
  reference ??= createReferenceBackend();
  const ref = reference;
  const refInputs = inputs.map((v) => {
    const s = ref.alloc(v.storage.numel);
    ref.write(s, readSync(v.storage));
    return { storage: s, shape: v.shape };
  });
  const refOut = { storage: ref.alloc(output.storage.numel), shape: output.shape };
  try {
    const kernel = ref.kernels[op];
    if (!kernel) fail(op, `no reference kernel '${op}'`);
    kernel(refInputs, refOut, attrs);
    backend.write(output.storage, ref.readSync!(refOut.storage));
  } finally {
    for (const v of refInputs) ref.free(v.storage);
    ref.free(refOut.storage);
  }
}
