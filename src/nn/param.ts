import type { Tensor } from '../engine/tensor.js';

/**
 * A named tensor held by a module. Assigning `value` keeps the new tensor alive past scopes, frees
 * the old one and bumps `version`, so host-side caches (1×1 inverses) know to refresh.
 */
export abstract class TensorSlot {
  private current: Tensor;
  version = 0;

  /** `prefix` gives the owner's dotted path, so `name` is unique in the whole model (optimizers key state by it). */
  constructor(readonly localName: string, value: Tensor, private readonly prefix: () => string = () => '') {
    this.current = value.keep();
  }

  /** Full dotted name from the root module, the key of the state dict. */
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

  /**
   * Puts `t` in place without freeing the current tensor, which is returned (the caller owns it).
   * Used to swap weights in and out (Ema) without copies.
   */
  swap(t: Tensor): Tensor {
    const old = this.current;
    this.current = t.keep();
    this.version++;
    return old;
  }

  get shape(): readonly number[] { return this.current.shape; }
  get size(): number { return this.current.size; }

  dispose(): void { this.current.dispose(); }
}

/** A trainable tensor: optimizers update it. */
export class Param extends TensorSlot {
  readonly trainable = true;
}

/**
 * A non-trained tensor that is part of a module's state (BatchNorm running statistics, a
 * spectral-norm vector): saved in the state dict and checkpoints, never given to optimizers.
 */
export class ModuleBuffer extends TensorSlot {
  readonly trainable = false;
}
