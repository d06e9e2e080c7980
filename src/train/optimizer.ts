import type { Engine } from '../engine/engine.js';
import { abs, add, div, maximum, mul, sqrt, square } from '../engine/ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { Param } from '../layers/param.js';

export type OptimizerKind = 'adam' | 'adamax';

export interface OptimizerConfig {
  kind: OptimizerKind;
  beta1: number;
  beta2: number;
  eps: number;
}

export const defaultOptimizer: OptimizerConfig = { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/**
 * Adam (Kingma & Ba) and its infinity-norm variant Adamax, with moments kept as tensors on the
 * engine's backend. `state()` / `load()` move the moments through host memory for checkpoints.
 */
export class Optimizer {
  private readonly m = new Map<string, Tensor>();
  private readonly v = new Map<string, Tensor>();
  /** Steps taken (the bias-correction exponent). */
  t = 0;

  constructor(readonly engine: Engine, readonly config: OptimizerConfig = defaultOptimizer) {
    if (config.kind !== 'adam' && config.kind !== 'adamax') throw new Error(`unknown optimizer '${String(config.kind)}' (adam or adamax)`);
  }

  /** One update of every param with its gradient (same order), at learning rate lr. */
  step(params: readonly Param[], grads: readonly Tensor[], lr: number): void {
    const { beta1: b1, beta2: b2, eps, kind } = this.config;
    this.t++;
    const c1 = 1 - b1 ** this.t, c2 = 1 - b2 ** this.t;
    params.forEach((p, i) => {
      const g = grads[i]!;
      const m0 = this.m.get(p.name), v0 = this.v.get(p.name);
      const [m, v, next] = this.engine.scope(() => {
        const m1 = add(mul(g, 1 - b1), m0 ? mul(m0, b1) : 0);
        let v1: Tensor, upd: Tensor;
        if (kind === 'adam') {
          v1 = add(mul(square(g), 1 - b2), v0 ? mul(v0, b2) : 0);
          upd = div(m1, add(sqrt(mul(v1, 1 / c2)), eps));
        } else {
          v1 = v0 ? maximum(mul(v0, b2), abs(g)) : abs(g);
          upd = div(m1, add(v1, eps));
        }
        return [m1, v1, add(p.value, mul(upd, -lr / c1))];
      });
      m0?.dispose();
      v0?.dispose();
      this.m.set(p.name, m.keep());
      this.v.set(p.name, v.keep());
      p.value = next;
    });
  }

  /** Moments as host arrays, keyed "m/<param>" and "v/<param>". */
  async state(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [prefix, map] of [['m', this.m], ['v', this.v]] as const)
      for (const [name, t] of map) out.set(`${prefix}/${name}`, { shape: [...t.shape], data: await t.data() });
    return out;
  }

  load(t: number, state: ReadonlyMap<string, { shape: number[]; data: Float32Array }>): void {
    this.dispose();
    this.t = t;
    for (const [key, { shape, data }] of state) {
      const slash = key.indexOf('/');
      const which = key.slice(0, slash), name = key.slice(slash + 1);
      if (which !== 'm' && which !== 'v') throw new Error(`optimizer state has an unknown entry '${key}'`);
      (which === 'm' ? this.m : this.v).set(name, this.engine.tensor(data, shape).keep());
    }
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
