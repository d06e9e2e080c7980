import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { DigitClassifier } from '../../src/models/classifier.js';
import * as models from '../../src/models/index.js';
import type { ModelConfig, ModelKind } from '../../src/models/index.js';
import { mean } from '../../src/ops/index.js';
import { evaluateBitsPerDim, evaluateWithClasses } from '../../src/train/evaluate.js';
import { build } from '../models/build.js';

// Issue 11, "no leak by default": the README's pattern `flow.bitsPerDim(batch)` outside any
// engine.scope kept 1 119 tensors (80 MB) per call and died at call 24; model methods now free their
// own intermediates, model.dispose() frees everything a model owns, and tensors dropped without
// dispose() are reclaimed by the garbage collector.

const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };
const batch = (engine: Engine, n = 16): Tensor =>
  engine.tensor(new Float32Array(n * 64).map((_, i) => ((i * 37) % 256) + 0.5), [n, 1, 8, 8]);

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

describe('no leak by default', () => {
  it('300 rounds of bitsPerDim(16) + sample(16) without any scope: live tensors exactly flat, RSS flat', async () => {
    const flow = models.fincFlow('tiny', { engine, seed: 0 });
    const x = batch(engine);
    flow.initialize(x);
    const counts: number[] = [];
    const rss: number[] = [];
    const t0 = performance.now();
    for (let round = 0; round < 300; round++) {
      const bpd = flow.bitsPerDim(x);
      const samples = await flow.sample(16, { seed: round });
      bpd.dispose();
      samples.dispose();
      counts.push(engine.memory().tensors);
      rss.push(process.memoryUsage().rss);
    }
    const seconds = (performance.now() - t0) / 1000;
    // Every round ends where the first did: not one tensor more.
    expect(new Set(counts)).toEqual(new Set([counts[0]]));
    // Without a forced collection RSS moves with the JS heap; over the last 200 rounds it grew
    // by 8–14 MiB when measured, while the old leak added ~23 MB of wasm memory alone on this model.
    const growth = (rss[299]! - rss[99]!) / 2 ** 20;
    expect(growth, `RSS growth over the last 200 rounds: ${growth.toFixed(1)} MiB`).toBeLessThan(32);
    console.log(`300 rounds in ${seconds.toFixed(1)} s; RSS growth over the last 200: ${growth.toFixed(1)} MiB`);
    x.dispose();
    flow.dispose();
  });

  it('every model method outside a scope leaves only what it returns', async () => {
    const flow = models.fincFlow({ ...tiny, classes: 3 }, { engine });
    const x = batch(engine, 4);
    flow.initialize(x);
    const lp = flow.classLogProbs(x);
    const y = engine.scope(() => flow.preprocess.encode(x).y);
    const { z, logdet } = flow.encode(y);
    const calls: Array<[string, () => unknown]> = [
      ['encode', () => flow.encode(y)],
      ['decode', () => flow.decode(z)],
      ['logProb', () => flow.logProb(x)],
      ['logProb | y', () => flow.logProb(x, [0, 1, 2, 0])],
      ['bitsPerDim', () => flow.bitsPerDim(x)],
      ['bitsPerDim | y', () => flow.bitsPerDim(x, { labels: [2, 2, 1, 0] })],
      ['classLogProbs', () => flow.classLogProbs(x)],
      ['bitsPerDimFromClasses', () => flow.bitsPerDimFromClasses(lp)],
      ['sampleLatents', () => flow.sampleLatents(4, { labels: [1] })],
      ['drawLatents', () => flow.drawLatents(4).z],
    ];
    for (const [name, call] of calls) {
      const before = engine.memory();
      const out = call();
      const returned = collect(out);
      expect(engine.memory().tensors - before.tensors, name).toBe(returned.length);
      for (const t of returned) t.dispose();
      expect([engine.memory().tensors, engine.memory().bytes], name).toEqual([before.tensors, before.bytes]);
    }
    for (const t of [y, logdet, ...z, lp]) t.dispose();
    const before = engine.memory();
    (await flow.sample(4)).dispose();
    expect(engine.memory().tensors).toBe(before.tensors);
    x.dispose();
    flow.dispose();
  });

  it('evaluate leaves nothing behind', async () => {
    const flow = models.glow({ ...tiny, classes: 2 }, { engine });
    const x = batch(engine, 4);
    flow.initialize(x);
    x.dispose();
    const data = { name: 'four', count: 5, shape: [1, 8, 8] as [number, number, number],
      images: new Uint8Array(5 * 64).map((_, i) => (i * 11) % 256), labels: new Int32Array([0, 1, 0, 1, 1]) };
    const before = engine.memory();
    expect(Number.isFinite(await evaluateBitsPerDim(flow, data, 2))).toBe(true);
    const r = await evaluateWithClasses(flow, data, 2);
    expect(r.accuracy).not.toBeNull();
    expect([engine.memory().tensors, engine.memory().bytes]).toEqual([before.tensors, before.bytes]);
    flow.dispose();
  });

  it('a scope that throws frees what it made, so a refused call leaks nothing', async () => {
    const before = engine.memory();
    expect(() => engine.scope(() => {
      const a = engine.ones([4, 4]);
      engine.scope(() => mean(a));
      throw new Error('refused');
    })).toThrow('refused');
    expect(engine.memory().tensors).toBe(before.tensors);
    // A model call refused after its forward pass (non-finite result from absurd weights).
    const flow = models.fincFlow(tiny, { engine });
    const x = batch(engine, 2);
    flow.initialize(x);
    const [, p] = [...flow.namedParams()].find(([k]) => k.endsWith('coupling.net.out.weight'))!;
    p.value = engine.tensor(new Float32Array(p.size).fill(1e30), p.shape);
    const start = engine.memory();
    expect(() => flow.bitsPerDim(x)).toThrow(/non-finite bits\/dim/);
    expect([engine.memory().tensors, engine.memory().bytes]).toEqual([start.tensors, start.bytes]);
    x.dispose();
    flow.dispose();
    expect(engine.memory().tensors).toBe(before.tensors);
  });

  const variants: Array<[string, ModelKind, Partial<ModelConfig>]> = [
    ['finc', 'finc', {}],
    ['finc + LU 1×1 + glow split + class couplings', 'finc', { conv1x1: 'lu', split: 'glow', classes: 3, classCouplings: true }],
    ['cinc (quad coupling, LU 1×1)', 'cinc', {}],
    ['inverse, chained', 'inverse', { inverseUnit: 'chained' }],
    ['glow + class prior', 'glow', { classes: 4 }],
    ['emerging + additive coupling', 'emerging', { coupling: 'additive' }],
  ];

  it.each(variants)('build + run + dispose of %s returns the engine to its pre-build memory', async (_, kind, extra) => {
    const before = engine.memory();
    const m = build(kind, { ...tiny, ...extra }, engine);
    const x = batch(engine, 2);
    const labels = extra.classes ? [0, 1] : undefined;
    m.initialize(x);
    m.bitsPerDim(x, labels).dispose();
    if (extra.classes) m.classLogProbs(x).dispose();
    (await m.sample(2, { seed: 3 })).dispose();
    // A training step too: the tape's aliases must all be released.
    const { value, grads } = engine.valueAndGrads(() => mean(m.bitsPerDim(x, labels)), m.parameters().map((p) => p.value));
    expect(grads.length).toBe(m.parameters().length);
    for (const t of [value, ...grads]) t.dispose();
    x.dispose();
    m.dispose();
    const after = engine.memory();
    expect([after.tensors, after.buffers, after.bytes]).toEqual([before.tensors, before.buffers, before.bytes]);
  });

  it('build + run + dispose of a DigitClassifier returns the engine to its pre-build memory', async () => {
    const before = engine.memory();
    const c = new DigitClassifier(engine);
    const x = engine.tensor(new Float32Array(2 * 784).map((_, i) => i % 256), [2, 1, 28, 28]);
    await c.predict(x);
    c.logits(x).dispose();
    x.dispose();
    c.dispose();
    const after = engine.memory();
    expect([after.tensors, after.bytes]).toEqual([before.tensors, before.bytes]);
  });

  it('tensors dropped without dispose() are reclaimed by the garbage collector (child process, node --expose-gc)', () => {
    const child = fileURLToPath(new URL('./no-leak-child.ts', import.meta.url));
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, '300'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      points: Array<{ round: number; tensors: number; bytes: number; rss: number }>; ms: number; afterDispose: number;
    };
    const warm = out.points[0]!;
    // After each full collection exactly the model's own tensors and the input are alive.
    for (const p of out.points) expect([p.round, p.tensors, p.bytes]).toEqual([p.round, warm.tensors, warm.bytes]);
    const at100 = out.points.find((p) => p.round === 100)!, last = out.points.at(-1)!;
    const growth = (last.rss - at100.rss) / 2 ** 20;
    // Measured: 1–2 MiB over the last 200 rounds (the leak it replaces grew ~23 MiB on this model).
    expect(growth, `RSS growth over the last 200 rounds: ${growth.toFixed(1)} MiB`).toBeLessThan(16);
    expect(out.afterDispose).toBe(0);
    console.log(`GC backstop: 300 rounds in ${(out.ms / 1000).toFixed(1)} s, RSS growth over the last 200: ${growth.toFixed(1)} MiB`);
  });
});

/** The tensors in a method's result (a tensor, an array of them, or an object holding them). */
function collect(v: unknown): Tensor[] {
  if (v && typeof v === 'object' && typeof (v as Tensor).dispose === 'function') return [v as Tensor];
  if (Array.isArray(v)) return v.flatMap(collect);
  if (v && typeof v === 'object') return Object.values(v).flatMap(collect);
  return [];
}
