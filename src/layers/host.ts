import type { Tensor } from '../engine/tensor.js';
import { fail } from '../engine/errors.js';
import type { Param } from './param.js';

/** Float64 contents now, where the backend reads synchronously (reference exactly, wasm widened); else null. */
export function readSync64(t: Tensor): Float64Array | null {
  const b = t.ref.backend;
  if (b.read64) return b.read64(t.ref.storage).subarray(0, t.size);
  if (!b.readSync) return null;
  b.flush();
  const d = b.readSync(t.ref.storage);
  return Float64Array.from(d.length === t.size ? d : d.subarray(0, t.size));
}

/**
 * A host float64 value derived from some parameters (a 1×1 inverse, a CInC diagonal), recomputed when
 * any of them changed. On backends that cannot read synchronously (webgpu) it is filled by prepare().
 */
export class HostCache<T> {
  private versions: number[] = [];
  private ids: number[] = [];
  private value: T | null = null;

  constructor(private readonly owner: string, private readonly params: () => Param[],
    private readonly compute: (values: Float64Array[]) => T) {}

  private fresh(ps: Param[]): boolean {
    return this.value !== null && ps.every((p, i) => p.version === this.versions[i] && p.value.id === this.ids[i]);
  }

  private store(ps: Param[], values: Float64Array[]): T {
    this.value = this.compute(values);
    this.versions = ps.map((p) => p.version);
    this.ids = ps.map((p) => p.value.id);
    return this.value;
  }

  get(): T {
    const ps = this.params();
    if (this.fresh(ps)) return this.value!;
    const values = ps.map((p) => readSync64(p.value));
    if (values.some((v) => v === null))
      fail(this.owner, `the ${ps[0]!.value.engine.name} backend reads asynchronously: call await model.prepare() (or layer.prepare()) after changing parameters`);
    return this.store(ps, values as Float64Array[]);
  }

  async refresh(): Promise<void> {
    const ps = this.params();
    if (this.fresh(ps)) return;
    this.store(ps, await Promise.all(ps.map((p) => p.value.data64())));
  }

  /** Seeds the cache with values known on the host already (freshly initialised weights). */
  seed(values: Float64Array[]): void { this.store(this.params(), values); }
}
