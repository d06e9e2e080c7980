import type { Tensor } from '../engine/tensor.js';

/**
 * A named, trainable tensor. Optimizers replace `value`; the holder keeps the new tensor alive past
 * scopes and frees the old one, and bumps `version` so host-side caches (1×1 inverses) know to refresh.
 */
export class Param {
  private current: Tensor;
  version = 0;

  /** `prefix` gives the owner's dotted path, so `name` is unique in the whole model (optimizers key state by it). */
  constructor(readonly localName: string, value: Tensor, private readonly prefix: () => string = () => '') {
    this.current = value.keep();
  }

  /** Full dotted name from the root module, the key of namedParameters(). */
  get name(): string { return this.prefix() + this.localName; }

  get value(): Tensor { return this.current; }

  set value(t: Tensor) {
    if (t === this.current) return;
    t.keep();
    const old = this.current;
    this.current = t;
    this.version++;
    old.dispose();
  }

  get shape(): readonly number[] { return this.current.shape; }
  get size(): number { return this.current.size; }

  dispose(): void { this.current.dispose(); }
}
