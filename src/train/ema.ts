import { InflowError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module, StateEntry } from '../nn/module.js';
import { add, mul } from '../ops/index.js';

/**
 * An exponential moving average of a module's parameters (Polyak averaging, as diffusion models and
 * GANs evaluate): after each update, s ← d·s + (1 − d)·θ per parameter, starting from s = θ.
 * Buffers are not averaged. swapIn() puts the averages into the module (for evaluation or
 * sampling) and swapOut() restores the trained weights; copyTo() writes them into another module
 * with the same names. state() / load() carry it through checkpoints.
 */
export class Ema {
  private readonly shadow = new Map<string, Tensor>();
  /** Updates so far. */
  updates = 0;
  private swapped = false;

  constructor(readonly module: Module, readonly decay = 0.999) {
    if (!(decay >= 0 && decay <= 1)) throw new InflowError(`EMA decay = ${decay} must be in [0, 1]`);
    const engine = module.engine;
    for (const [name, p] of module.namedParams()) this.shadow.set(name, engine.scope(() => mul(p.value, 1)).keep());
  }

  /** Whether the module holds the averages now (between swapIn and swapOut). */
  get isSwappedIn(): boolean { return this.swapped; }

  /** s ← d·s + (1 − d)·θ for every parameter; d defaults to the decay given at construction. */
  update(decay = this.decay): void {
    if (!(decay >= 0 && decay <= 1)) throw new InflowError(`EMA decay = ${decay} must be in [0, 1]`);
    if (this.swapped) throw new InflowError('Ema.update: the module holds the averages (swapIn); swapOut() first');
    const engine = this.module.engine;
    for (const [name, p] of this.params()) {
      const s = this.shadow.get(name)!;
      const next = engine.scope(() => add(mul(s, decay), mul(p.value, 1 - decay))).keep();
      s.dispose();
      this.shadow.set(name, next);
    }
    this.updates++;
  }

  /** Puts the averages into the module; the trained weights wait here until swapOut(). */
  swapIn(): void {
    if (this.swapped) throw new InflowError('Ema.swapIn: already swapped in');
    this.swapAll();
    this.swapped = true;
  }

  /** Restores the trained weights after swapIn(). */
  swapOut(): void {
    if (!this.swapped) throw new InflowError('Ema.swapOut: not swapped in');
    this.swapAll();
    this.swapped = false;
  }

  /** Runs fn with the averages swapped in (e.g. evaluation), then swaps back, also on an error. */
  async withAverages<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swapIn();
    try {
      return await fn();
    } finally {
      this.swapOut();
    }
  }

  private swapAll(): void {
    for (const [name, p] of this.params()) this.shadow.set(name, p.swap(this.shadow.get(name)!));
  }

  /** Copies the averages into `target`'s parameters of the same names (another instance of the model). */
  copyTo(target: Module): void {
    const engine = target.engine;
    const params = target.namedParams();
    for (const name of this.shadow.keys()) if (!params.has(name)) throw new InflowError(`Ema.copyTo: the target has no parameter '${name}'`);
    for (const [name, s] of this.shadow) {
      const p = params.get(name)!;
      if (p.shape.join() !== s.shape.join()) throw new InflowError(`Ema.copyTo: '${name}' is [${p.shape}] in the target, [${s.shape}] here`);
      p.value = engine === s.engine ? engine.scope(() => mul(s, 1)) : engine.tensor(s.dataSync(), s.shape);
    }
  }

  /** The averages, keyed by parameter name (what the module would hold after swapIn). */
  async state(): Promise<Map<string, StateEntry>> {
    const out = new Map<string, StateEntry>();
    for (const [name, s] of this.currentAverages()) out.set(name, { shape: [...s.shape], data: await s.data() });
    return out;
  }

  /** Restores averages saved by state() and the update count. */
  load(updates: number, state: ReadonlyMap<string, StateEntry>): void {
    if (this.swapped) throw new InflowError('Ema.load: swapOut() first');
    const missing = [...this.shadow.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !this.shadow.has(k));
    if (missing.length || unexpected.length)
      throw new InflowError(`EMA state does not match the module: ${[missing.length ? `missing ${missing.map((k) => `'${k}'`).join(', ')}` : '', unexpected.length ? `unexpected ${unexpected.map((k) => `'${k}'`).join(', ')}` : ''].filter(Boolean).join('; ')}`);
    for (const [name, { shape, data }] of state) {
      const old = this.shadow.get(name)!;
      if (old.shape.join() !== shape.join()) throw new InflowError(`EMA state '${name}' has shape [${shape}], the parameter [${old.shape}]`);
      old.dispose();
      this.shadow.set(name, this.module.engine.tensor(data, shape).keep());
    }
    this.updates = updates;
  }

  private *currentAverages(): Generator<[string, Tensor]> {
    const params = this.swapped ? this.module.namedParams() : null;
    for (const [name, s] of this.shadow) yield [name, params ? params.get(name)!.value : s];
  }

  private params() {
    const params = this.module.namedParams();
    for (const name of this.shadow.keys()) if (!params.has(name)) throw new InflowError(`Ema: the module no longer has parameter '${name}'`);
    return [...this.shadow.keys()].map((name) => [name, params.get(name)!] as const);
  }

  dispose(): void {
    if (this.swapped) this.swapOut();
    for (const t of this.shadow.values()) t.dispose();
    this.shadow.clear();
  }
}
