import type { Backend, KernelTable, Storage } from '../backend.js';
import { opKernels } from '../../../bindings/generated/ops.js';
import { RefStorage } from './storage.js';

const kernels: KernelTable = Object.fromEntries(opKernels.map((k) => [k.name, k.reference]));

/** Plain TypeScript, float64 storage and accumulation: the oracle every other backend is tested against. */
export function createReferenceBackend(): Backend {
  const live = new Set<RefStorage>();
  return {
    name: 'reference',
    kernels,
    alloc(numel) {
      const s = new RefStorage(numel);
      live.add(s);
      return s;
    },
    free(s) { live.delete(s as RefStorage); },
    write(s, data) { (s as RefStorage).data.set(data); },
    read: async (s: Storage) => Float32Array.from((s as RefStorage).data),
    readSync: (s) => Float32Array.from((s as RefStorage).data),
    readInto: (s, into) => into.set((s as RefStorage).data.subarray(0, into.length)),
    read64: (s) => (s as RefStorage).data.slice(),
    memory() {
      let bytes = 0;
      for (const s of live) bytes += s.numel * 8;
      return { buffers: live.size, bytes };
    },
    info: () => ({ name: 'reference', details: { precision: 'float64' } }),
    flush() {},
    dispose() { live.clear(); },
  };
}
