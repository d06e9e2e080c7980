import type { Backend } from '../../src/backends/backend.js';

export interface HostTensor {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * Runs one kernel directly through the Backend interface (no engine) and reads the result back:
 * the narrowest possible parity check of a kernel against its reference twin.
 */
export async function runKernel(backend: Backend, op: string, inputs: readonly HostTensor[],
  outShape: readonly number[], attrs: unknown): Promise<Float32Array> {
  const views = inputs.map((t) => {
    const storage = backend.alloc(t.data.length);
    backend.write(storage, t.data);
    return { storage, shape: t.shape };
  });
  const out = { storage: backend.alloc(outShape.reduce((a, b) => a * b, 1)), shape: outShape };
  const reason = backend.supports?.(op, views, out, attrs);
  if (reason) throw new Error(`${backend.name} does not support ${op}: ${reason}`);
  const kernel = backend.kernels[op];
  if (!kernel) throw new Error(`${backend.name} has no kernel ${op}`);
  kernel(views, out, attrs);
  backend.flush();
  const result = await backend.read(out.storage);
  for (const v of views) backend.free(v.storage);
  backend.free(out.storage);
  return result;
}
