import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { Module } from '../../src/nn/module.js';
import type { Param } from '../../src/nn/param.js';
import { Ema } from '../../src/train/ema.js';
import { Adam, Adamax, AdamW, Optimizer, SGD, type OptimizerConfig } from '../../src/train/optimizer.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

class One extends Module {
  readonly w: Param;
  constructor(e: Engine, values: number[]) { super(e); this.w = this.param('w', e.tensor(values, [values.length])); }
}

const theta0 = [0.5, -1.25, 2];
const gradients = [[0.1, -0.3, 0.7], [-0.2, 0.05, 0.4], [0.3, 0.3, -0.1], [0, -0.6, 0.2]];
const lrs = [0.1, 0.05, 0.02, 0.03];

/** Runs the optimizer over the fixed gradients on the float64 reference backend. */
async function run(opt: Optimizer): Promise<number[]> {
  const m = new One(engine, theta0);
  gradients.forEach((g, i) => {
    const gt = engine.tensor(g, [3]);
    opt.step([m.w], [gt], lrs[i]!);
    gt.dispose();
  });
  const out = Array.from(await m.w.value.data64());
  m.dispose();
  return out;
}

/** The same updates written out per element in float64. */
function byHand(kind: OptimizerConfig['kind'], o: { b1?: number; b2?: number; eps?: number; wd?: number; mu?: number; damp?: number; nesterov?: boolean } = {}): number[] {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0, mu = 0, damp = 0, nesterov = false } = o;
  return theta0.map((t0, j) => {
    let th = t0, m = 0, v = 0, buf: number | null = null;
    gradients.forEach((gs, i) => {
      const t = i + 1, lr = lrs[i]!;
      let g = gs[j]!;
      if (kind !== 'adamw') g += wd * th;
      if (kind === 'sgd') {
        if (mu === 0) { th -= lr * g; return; }
        buf = buf === null ? g : mu * buf + (1 - damp) * g;
        th -= lr * (nesterov ? g + mu * buf : buf);
        return;
      }
      m = b1 * m + (1 - b1) * g;
      if (kind === 'adamax') v = t === 1 ? Math.abs(g) : Math.max(b2 * v, Math.abs(g));
      else v = b2 * v + (1 - b2) * g * g;
      const step = kind === 'adamax' ? m / (v + eps) : m / (Math.sqrt(v / (1 - b2 ** t)) + eps);
      if (kind === 'adamw') th *= 1 - lr * wd;
      th -= (lr / (1 - b1 ** t)) * step;
    });
    return th;
  });
}

const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-13));

describe('optimizers against hand-computed float64 updates (reference backend)', () => {
  it('Adam, and Adam with L2 weight decay', async () => {
    close(await run(new Adam(engine)), byHand('adam'));
    close(await run(new Adam(engine, { beta1: 0.8, beta2: 0.99, weightDecay: 0.1 })), byHand('adam', { b1: 0.8, b2: 0.99, wd: 0.1 }));
    // The generic class with an explicit config is the same optimizer.
    close(await run(new Optimizer(engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 })), byHand('adam'));
  });

  it('AdamW: decoupled weight decay, default 0.01', async () => {
    close(await run(new AdamW(engine)), byHand('adamw', { wd: 0.01 }));
    close(await run(new AdamW(engine, { weightDecay: 0.3 })), byHand('adamw', { wd: 0.3 }));
    expect(byHand('adamw', { wd: 0.3 })).not.toEqual(byHand('adam', { wd: 0.3 }));
  });

  it('Adamax', async () => {
    close(await run(new Adamax(engine)), byHand('adamax'));
  });

  it('SGD: plain, momentum with dampening, Nesterov with weight decay', async () => {
    close(await run(new SGD(engine)), byHand('sgd'));
    close(await run(new SGD(engine, { momentum: 0.9, dampening: 0.1 })), byHand('sgd', { mu: 0.9, damp: 0.1 }));
    close(await run(new SGD(engine, { momentum: 0.9, nesterov: true, weightDecay: 0.01 })), byHand('sgd', { mu: 0.9, nesterov: true, wd: 0.01 }));
    expect(() => new SGD(engine, { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => new Optimizer(engine, { kind: 'lion' as never, beta1: 0, beta2: 0, eps: 0 })).toThrow(/unknown optimizer 'lion'/);
  });

  it('state() / load() carry every slot; a restored optimizer continues the same updates', async () => {
    for (const make of [() => new Adam(engine), () => new SGD(engine, { momentum: 0.5 }), () => new SGD(engine)]) {
      const m = new One(engine, theta0), opt = make();
      const g = engine.tensor(gradients[0]!, [3]);
      opt.step([m.w], [g], 0.1);
      const state = await opt.state();
      expect([...state.keys()]).toEqual(opt.config.kind === 'adam' ? ['m/w', 'v/w'] : opt.config.momentum ? ['momentum/w'] : []);
      const copy = make();
      copy.load(opt.t, state);
      const m2 = new One(engine, Array.from(await m.w.value.data()));
      m.w.value = engine.tensor(await m.w.value.data(), [3]);  // both start from the same float32 values
      opt.step([m.w], [g], 0.05);
      copy.step([m2.w], [g], 0.05);
      expect(Array.from(await m2.w.value.data())).toEqual(Array.from(await m.w.value.data()));
      expect(() => copy.load(1, new Map([['q/w', { shape: [3], data: new Float32Array(3) }]]))).toThrow(/unknown entry 'q\/w'/);
      for (const t of [g]) t.dispose();
      [opt, copy].forEach((o) => o.dispose());
      m.dispose();
      m2.dispose();
    }
  });
});

describe('Ema', () => {
  it('s ← d·s + (1 − d)·θ from s = θ₀; swapIn / swapOut, copyTo, state / load', async () => {
    const m = new One(engine, [1, -2]);
    const ema = new Ema(m, 0.9);
    const thetas = [[2, 0], [4, 1], [-1, 3]];
    let s = [1, -2];
    thetas.forEach((th, i) => {
      m.w.value = engine.tensor(th, [2]);
      const d = i === 2 ? 0.5 : 0.9;
      if (i === 2) ema.update(0.5); else ema.update();
      s = s.map((v, j) => d * v + (1 - d) * th[j]!);
    });
    expect(ema.updates).toBe(3);
    const state = await ema.state();
    Array.from(state.get('w')!.data).forEach((v, j) => expect(v).toBeCloseTo(s[j]!, 6));

    ema.swapIn();
    close(Array.from(await m.w.value.data64()), s);
    expect(() => ema.update()).toThrow(/swapOut\(\) first/);
    // While swapped in, state() still gives the averages.
    expect(Array.from((await ema.state()).get('w')!.data)).toEqual(Array.from(state.get('w')!.data));
    ema.swapOut();
    expect(Array.from(await m.w.value.data64())).toEqual([-1, 3]);
    expect(await ema.withAverages(async () => Array.from(await m.w.value.data64()))).toEqual(Array.from(await engine.tensor(s, [2]).data64()));
    expect(Array.from(await m.w.value.data64())).toEqual([-1, 3]);

    const other = new One(engine, [0, 0]);
    ema.copyTo(other);
    close(Array.from(await other.w.value.data64()), s);
    const again = new Ema(other, 0.9);
    again.load(3, state);
    expect(again.updates).toBe(3);
    expect(Array.from((await again.state()).get('w')!.data)).toEqual(Array.from(state.get('w')!.data));
    expect(() => again.load(0, new Map())).toThrow(/missing 'w'/);
    for (const x of [ema, again, m, other]) x.dispose();
  });

  it('holds one tensor per parameter and frees everything on dispose', () => {
    const before = engine.memory().tensors;
    const m = new One(engine, [1, 2, 3]);
    const ema = new Ema(m);
    for (let i = 0; i < 5; i++) ema.update();
    ema.swapIn();
    ema.swapOut();
    expect(engine.memory().tensors - before).toBe(2);
    ema.dispose();
    m.dispose();
    expect(engine.memory().tensors).toBe(before);
  });
});
