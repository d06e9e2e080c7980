import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';

/** A module with a one-input forward (Linear, Conv2d, Sequential, …). */
export interface ForwardModule extends Module {
  forward(x: Tensor): Tensor;
}

/** A step of a Sequential: a module, or a stateless function such as an activation (relu). */
export type SequentialItem = ForwardModule | ((x: Tensor) => Tensor);

/**
 * Runs its items in order. Modules are children named by their position ("0", "2", …), counting
 * functions too, as PyTorch names them (so [conv, relu, conv] has "0.weight" and "2.weight").
 */
export class Sequential extends Module {
  private readonly items: SequentialItem[];

  constructor(engine: Engine, items: readonly SequentialItem[]) {
    super(engine);
    this.items = [...items];
    this.items.forEach((m, i) => { if (m instanceof Module) this.child(String(i), m); });
  }

  get length(): number { return this.items.length; }

  at(i: number): SequentialItem | undefined { return this.items.at(i); }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.items) h = m instanceof Module ? m.forward(h) : m(h);
    return h;
  }
}
