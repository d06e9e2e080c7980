import { InflowError } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { StateDict, StateEntry } from '../nn/module.js';
import type { Param } from '../nn/param.js';
import { abs, add, div, maximum, mul, sqrt, square } from '../ops/index.js';

export type OptimizerKind = 'adam' | 'adamw' | 'adamax' | 'sgd';

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Adam family: decay of the first moment. */
  beta1: number;
  /** Adam family: decay of the second moment (Adamax: of the infinity norm). */
  beta2: number;
  eps: number;
  /**
   * adam, adamax, sgd: L2 penalty added to the gradient (g + wd·θ). adamw: decoupled decay,
   * θ ← θ(1 − lr·wd) before the Adam update (Loshchilov & Hutter). Default 0 (adamw: 0.01).
   */
  weightDecay?: number;
  /** sgd: momentum μ (default 0: plain SGD). */
  momentum?: number;
  /** sgd: dampening of the momentum buffer (default 0). */
  dampening?: number;
  /** sgd: Nesterov momentum (needs μ > 0). */
  nesterov?: boolean;
}

export const defaultOptimizer: OptimizerConfig = { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 };

const KINDS: readonly OptimizerKind[] = ['adam', 'adamw', 'adamax', 'sgd'];

/** The checks of `new Optimizer(engine, config)`, without an engine (to refuse bad options before any work). */
export function checkOptimizerConfig(config: Partial<OptimizerConfig>): void {
  if (!KINDS.includes(config.kind as OptimizerKind)) throw new InflowError(`unknown optimizer '${String(config.kind)}' (${KINDS.join(', ')})`);
  const { weightDecay = 0, momentum = 0, dampening = 0 } = config;
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new InflowError(`weightDecay = ${weightDecay} must be a finite number ≥ 0`);
  if (!(momentum >= 0) || !Number.isFinite(momentum)) throw new InflowError(`momentum = ${momentum} must be a finite number ≥ 0`);
  if (config.nesterov && (momentum <= 0 || dampening !== 0)) throw new InflowError('Nesterov momentum needs momentum > 0 and dampening 0');
}

/**
 * First-order optimizers with their state kept as tensors on the engine's backend, per parameter
 * name. `state()` / `load()` move it through host memory for checkpoints.
 *
 * Updates at step t (g the gradient, lr the learning rate of this step):
 * - adam:   m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − (lr/(1−β₁ᵗ))·m/(√(v/(1−β₂ᵗ)) + ε)
 * - adamw:  θ ← θ(1 − lr·wd), then the adam update (decay not mixed into the moments)
 * - adamax: m as adam, u ← max(β₂u, |g|), θ ← θ − (lr/(1−β₁ᵗ))·m/(u + ε)
 * - sgd:    b ← μb + (1−dampening)g (b = g at the first step), d = g + μb (Nesterov) or b, θ ← θ − lr·d
 */
export class Optimizer {
  /** slot name → (param name → tensor): 'm' and 'v' (Adamax: v is u), SGD 'momentum'. */
  private readonly slots = new Map<string, Map<string, Tensor>>();
  /** Steps taken (the bias-correction exponent). */
  t = 0;

  constructor(readonly engine: Engine, readonly config: OptimizerConfig = defaultOptimizer) {
    checkOptimizerConfig(config);
    for (const name of this.slotNames()) this.slots.set(name, new Map());
  }

  /** The per-parameter state this kind keeps. */
  private slotNames(): string[] {
    if (this.config.kind === 'sgd') return (this.config.momentum ?? 0) > 0 ? ['momentum'] : [];
    return ['m', 'v'];
  }

  get weightDecay(): number { return this.config.weightDecay ?? (this.config.kind === 'adamw' ? 0.01 : 0); }

  /** One update of every param with its gradient (same order), at learning rate lr. */
  step(params: readonly Param[], grads: readonly Tensor[], lr: number): void {
    if (params.length !== grads.length) throw new InflowError(`optimizer step: ${params.length} parameters but ${grads.length} gradients`);
    this.t++;
    const names = [...this.slots.keys()];
    params.forEach((p, i) => {
      const old = names.map((n) => this.slots.get(n)!.get(p.name));
      const [next, ...state] = this.engine.scope(() => this.update(p.value, grads[i]!, old, lr));
      old.forEach((t) => t?.dispose());
      names.forEach((n, k) => this.slots.get(n)!.set(p.name, state[k]!.keep()));
      p.value = next!;
    });
  }

  /** [θ', ...new slot tensors] for one parameter. */
  private update(theta: Tensor, grad: Tensor, [s0, s1]: Array<Tensor | undefined>, lr: number): Tensor[] {
    const { kind, beta1: b1, beta2: b2, eps } = this.config;
    const wd = this.weightDecay;
    const g = wd > 0 && kind !== 'adamw' ? add(grad, mul(theta, wd)) : grad;
    if (kind === 'sgd') {
      const mu = this.config.momentum ?? 0;
      if (mu === 0) return [add(theta, mul(g, -lr))];
      const damp = this.config.dampening ?? 0;
      const buf = s0 ? add(mul(s0, mu), damp ? mul(g, 1 - damp) : g) : mul(g, 1);
      const d = this.config.nesterov ? add(g, mul(buf, mu)) : buf;
      return [add(theta, mul(d, -lr)), buf];
    }
    const c1 = 1 - b1 ** this.t, c2 = 1 - b2 ** this.t;
    const m1 = add(mul(g, 1 - b1), s0 ? mul(s0, b1) : 0);
    let v1: Tensor, upd: Tensor;
    if (kind === 'adamax') {
      v1 = s1 ? maximum(mul(s1, b2), abs(g)) : abs(g);
      upd = div(m1, add(v1, eps));
    } else {
      v1 = add(mul(square(g), 1 - b2), s1 ? mul(s1, b2) : 0);
      upd = div(m1, add(sqrt(mul(v1, 1 / c2)), eps));
    }
    const base = kind === 'adamw' && wd > 0 ? mul(theta, 1 - lr * wd) : theta;
    return [add(base, mul(upd, -lr / c1)), m1, v1];
  }

  /** State as host arrays, keyed "<slot>/<param>" ("m/…" and "v/…" for the Adam family). */
  async state(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const [slot, map] of this.slots)
      for (const [name, t] of map) out.set(`${slot}/${name}`, { shape: [...t.shape], data: await t.data() });
    return out;
  }

  load(t: number, state: ReadonlyMap<string, StateEntry>): void {
    this.dispose();
    this.t = t;
    for (const [key, { shape, data }] of state) {
      const slash = key.indexOf('/');
      const which = key.slice(0, slash), name = key.slice(slash + 1);
      const map = this.slots.get(which);
      if (slash < 0 || !map) throw new InflowError(`optimizer state has an unknown entry '${key}' for ${this.config.kind} (slots: ${[...this.slots.keys()].join(', ') || 'none'})`);
      map.set(name, this.engine.tensor(data, shape).keep());
    }
  }

  dispose(): void {
    for (const map of this.slots.values()) {
      for (const t of map.values()) t.dispose();
      map.clear();
    }
  }
}

type Settings = Partial<Omit<OptimizerConfig, 'kind'>>;

/** Adam (Kingma & Ba); weightDecay adds an L2 term to the gradient. */
export class Adam extends Optimizer {
  constructor(engine: Engine, s: Settings = {}) { super(engine, { ...defaultOptimizer, ...s, kind: 'adam' }); }
}

/** AdamW: Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Optimizer {
  constructor(engine: Engine, s: Settings = {}) { super(engine, { ...defaultOptimizer, weightDecay: 0.01, ...s, kind: 'adamw' }); }
}

/** Adamax: Adam with the infinity norm. */
export class Adamax extends Optimizer {
  constructor(engine: Engine, s: Settings = {}) { super(engine, { ...defaultOptimizer, ...s, kind: 'adamax' }); }
}

/** SGD with optional momentum, dampening, Nesterov and L2 weight decay. */
export class SGD extends Optimizer {
  constructor(engine: Engine, s: Settings = {}) { super(engine, { ...defaultOptimizer, ...s, kind: 'sgd' }); }
}
