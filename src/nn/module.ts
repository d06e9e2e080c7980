import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { ModuleBuffer, Param, type TensorSlot } from './param.js';

/** One state-dict entry: a shape and its float32 values, row-major (what safetensors stores). */
export interface StateEntry {
  shape: number[];
  data: Float32Array;
}

/** Name → entry; names are dotted paths from the root module ("levels.0.steps.3.coupling.net.out.weight"). */
export type StateDict = Map<string, StateEntry>;

export interface LoadStateOptions {
  /**
   * true (default): every parameter and buffer must be given, nothing else may be. false: missing
   * entries keep their current values and unknown ones are ignored. Shapes are always checked.
   */
  strict?: boolean;
}

/** What loadStateDict accepts per name: host values (copied to the engine) or a tensor of this module's engine (taken over, not copied). */
export type StateValue = StateEntry | { shape: readonly number[]; data: ArrayLike<number> } | Tensor;

/**
 * A tree of parameters (trained), buffers (state that is saved but not trained: running statistics,
 * a spectral-norm vector) and child modules, with stable dotted names, a train/eval mode and a named
 * state dict. A loader can rebuild a model from its config and fill every tensor by name.
 *
 * Names: a module's own parameters come first, then its buffers, then each child's entries under
 * "<child>.", in registration order. Parameters and buffers share one namespace.
 */
export abstract class Module {
  private readonly own = new Map<string, Param>();
  private readonly ownBuffers = new Map<string, ModuleBuffer>();
  private readonly children = new Map<string, Module>();

  private parent: Module | null = null;
  private nameInParent = '';

  private disposedModule = false;

  /** Training mode (the default) or evaluation mode; set with train() / eval(), which reach every child. */
  training = true;

  constructor(readonly engine: Engine) {}

  /** Dotted path from the root ("levels.0.steps.3.conv"), used to name a layer in errors. */
  get path(): string {
    return this.parent ? this.prefix.slice(0, -1) : this.constructor.name;
  }

  /** '' at the root, else the dotted path and a trailing dot. */
  get prefix(): string {
    return this.parent ? `${this.parent.prefix}${this.nameInParent}.` : '';
  }

  private checkFree(kind: string, name: string): void {
    if (this.own.has(name) || this.ownBuffers.has(name) || this.children.has(name))
      fail(this.path, `cannot add ${kind} '${name}': the name is already taken`);
  }

  /** Registers a trainable tensor (the module keeps it alive; dispose() frees it). */
  protected param(name: string, value: Tensor): Param {
    this.checkFree('parameter', name);
    const p = new Param(name, value, () => this.prefix);
    this.own.set(name, p);
    return p;
  }

  /** Registers a non-trained state tensor: in the state dict, never given to optimizers. */
  protected buffer(name: string, value: Tensor): ModuleBuffer {
    this.checkFree('buffer', name);
    const b = new ModuleBuffer(name, value, () => this.prefix);
    this.ownBuffers.set(name, b);
    return b;
  }

  /** Registers a child module under `name`; its entries are named "<name>.<entry>". */
  protected child<M extends Module>(name: string, m: M): M {
    this.checkFree('child', name);
    if (m.parent) fail(this.path, `cannot add child '${name}': the module is already a child of ${m.parent.path}`);
    this.children.set(name, m);
    m.parent = this;
    m.nameInParent = name;
    m.setTraining(this.training);
    return m;
  }

  /** Every parameter under this module, in a stable order, keyed by dotted path. */
  namedParams(prefix = ''): Map<string, Param> {
    const out = new Map<string, Param>();
    for (const [n, p] of this.own) out.set(prefix + n, p);
    for (const [n, c] of this.children) for (const [k, p] of c.namedParams(`${prefix}${n}.`)) out.set(k, p);
    return out;
  }

  /** Every buffer under this module, keyed by dotted path. */
  namedBuffers(prefix = ''): Map<string, ModuleBuffer> {
    const out = new Map<string, ModuleBuffer>();
    for (const [n, b] of this.ownBuffers) out.set(prefix + n, b);
    for (const [n, c] of this.children) for (const [k, b] of c.namedBuffers(`${prefix}${n}.`)) out.set(k, b);
    return out;
  }

  /** Parameters then buffers: every tensor of the state dict. */
  namedState(): Map<string, TensorSlot> {
    return new Map<string, TensorSlot>([...this.namedParams(), ...this.namedBuffers()]);
  }

  namedParameters(): Map<string, Tensor> {
    return new Map([...this.namedParams()].map(([k, p]) => [k, p.value]));
  }

  parameters(): Param[] { return [...this.namedParams().values()]; }

  buffers(): ModuleBuffer[] { return [...this.namedBuffers().values()]; }

  paramCount(): number { return this.parameters().reduce((s, p) => s + p.size, 0); }

  /** Direct children, by name. */
  namedChildren(): Map<string, Module> { return new Map(this.children); }

  /** This module and every submodule, depth first (so containers can reach e.g. every ActNorm). */
  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((c) => c.modules())];
  }

  /** Training mode for this module and every child (dropout active, batch statistics used). */
  train(mode = true): this {
    this.setTraining(mode);
    return this;
  }

  /** Evaluation mode for this module and every child: train(false). */
  eval(): this { return this.train(false); }

  private setTraining(mode: boolean): void {
    for (const m of this.modules()) m.training = mode;
  }

  /** Parameters and buffers as host arrays, keyed by dotted name (reads the device). */
  async stateDict(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const [name, s] of this.namedState()) out.set(name, { shape: [...s.shape], data: await s.value.data() });
    return out;
  }

  /**
   * Fills parameters and buffers by name. Everything is checked before anything changes; a problem
   * throws one line naming the missing, unexpected and mis-shaped entries.
   */
  loadStateDict(state: ReadonlyMap<string, StateValue>, opts: LoadStateOptions = {}): void {
    const strict = opts.strict ?? true;
    const slots = this.namedState();
    const missing = [...slots.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !slots.has(k));
    const misshaped: string[] = [];
    for (const [name, v] of state) {
      const slot = slots.get(name);
      if (!slot) continue;
      const n = v.shape.reduce((a, b) => a * b, 1);
      if (v.shape.join() !== slot.shape.join())
        misshaped.push(`'${name}' has shape ${shapeStr(v.shape)} but the module's is ${shapeStr(slot.shape)}`);
      else if (!isTensorValue(v) && v.data.length !== n)
        misshaped.push(`'${name}' has ${v.data.length} values for shape ${shapeStr(v.shape)}`);
    }
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing ${listNames(missing)}`);
    if (strict && unexpected.length) problems.push(`unexpected ${listNames(unexpected)}`);
    if (misshaped.length) problems.push(misshaped.slice(0, 5).join(', ') + (misshaped.length > 5 ? ` and ${misshaped.length - 5} more` : ''));
    if (problems.length) fail(`${this.path}.loadStateDict`, problems.join('; '));
    for (const [name, v] of state) {
      const slot = slots.get(name);
      if (!slot) continue;
      if (isTensorValue(v)) {
        if (v.engine !== this.engine) fail(`${this.path}.loadStateDict`, `'${name}' is a tensor of another engine (${v.engine.name})`);
        slot.value = v;
      } else slot.value = this.engine.tensor(v.data, slot.shape);
    }
  }

  /** Refreshes host-side float64 caches from the device (needed on backends without synchronous reads). */
  async prepare(): Promise<void> {
    for (const c of this.children.values()) await c.prepare();
  }

  /** Whether dispose() was called: the weights are gone. */
  get isDisposed(): boolean { return this.disposedModule; }

  /** Throws `op: the model was disposed` instead of an op's message about a disposed tensor. */
  protected assertUsable(op: string): void {
    if (this.disposedModule) fail(op, `the ${this.constructor.name} was disposed: its weights are freed (build or load it again)`);
  }

  /** Frees every parameter and buffer of this module and its children (layer constants too, in overrides). */
  dispose(): void {
    this.disposedModule = true;
    for (const p of this.own.values()) p.dispose();
    for (const b of this.ownBuffers.values()) b.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}

const isTensorValue = (v: StateValue): v is Tensor => typeof (v as Tensor).dispose === 'function';

/** "'a', 'b', 'c' and 4 more": one line however many names there are. */
function listNames(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).map((n) => `'${n}'`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
