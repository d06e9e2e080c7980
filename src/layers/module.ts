import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Param } from './param.js';

/**
 * A tree of parameters with stable dotted names ("levels.0.steps.3.coupling.net.out.weight"), so a
 * loader can rebuild a model from its config and fill every weight by name.
 */
export abstract class Module {
  private readonly own = new Map<string, Param>();
  private readonly children = new Map<string, Module>();

  private parent: Module | null = null;
  private nameInParent = '';

  constructor(readonly engine: Engine) {}

  /** Dotted path from the root ("levels.0.steps.3.conv"), used to name a layer in errors. */
  get path(): string {
    return this.parent ? this.prefix.slice(0, -1) : this.constructor.name;
  }

  /** '' at the root, else the dotted path and a trailing dot. */
  get prefix(): string {
    return this.parent ? `${this.parent.prefix}${this.nameInParent}.` : '';
  }

  protected param(name: string, value: Tensor): Param {
    const p = new Param(name, value, () => this.prefix);
    this.own.set(name, p);
    return p;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    m.parent = this;
    m.nameInParent = name;
    return m;
  }

  /** Every parameter under this module, in a stable order, keyed by dotted path. */
  namedParams(prefix = ''): Map<string, Param> {
    const out = new Map<string, Param>();
    for (const [n, p] of this.own) out.set(prefix + n, p);
    for (const [n, c] of this.children) for (const [k, p] of c.namedParams(`${prefix}${n}.`)) out.set(k, p);
    return out;
  }

  namedParameters(): Map<string, Tensor> {
    return new Map([...this.namedParams()].map(([k, p]) => [k, p.value]));
  }

  parameters(): Param[] { return [...this.namedParams().values()]; }

  paramCount(): number { return this.parameters().reduce((s, p) => s + p.size, 0); }

  /** Submodules, so containers can reach e.g. every ActNorm or host cache. */
  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((c) => c.modules())];
  }

  /** Refreshes host-side float64 caches from the device (needed on backends without synchronous reads). */
  async prepare(): Promise<void> {
    for (const c of this.children.values()) await c.prepare();
  }

  dispose(): void {
    for (const p of this.own.values()) p.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}
