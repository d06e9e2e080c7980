import type { Backend, KernelAttrs, KernelName } from '../../src/backends/backend.js';

export interface HostTensor {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * Runs one kernel directly through the Backend interface (no engine) and reads the result back:
 * the narrowest possible parity check of a kernel against its reference twin.
 */
export async function runKernel<K extends KernelName>(backend: Backend, op: K, inputs: readonly HostTensor[],
  outShape: readonly number[], attrs: KernelAttrs[K]): Promise<Float32Array> {
  const views = inputs.map((t) => {
    const storage = backend.alloc(t.data.length);
    backend.write(storage, t.data);
    return { storage, shape: t.shape };
  });
  const out = { storage: backend.alloc(outShape.reduce((a, b) => a * b, 1)), shape: outShape };
  const reason = backend.supports?.(op, views, out, attrs);
  if (reason) throw new Error(`${backend.name} does not support ${op}: ${reason}`);
  backend.kernels[op](views, out, attrs);
  backend.flush();
  const result = await backend.read(out.storage);
  for (const v of views) backend.free(v.storage);
  backend.free(out.storage);
  return result;
}
