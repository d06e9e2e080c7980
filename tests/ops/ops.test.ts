/// <reference types="vite/client" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';
import { expectIdentical } from '../kernels/parity.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { numel, randomArray } from '../helpers/random.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import type { CaseInput, OpCase } from './case.js';

// Every op's cases (tests/ops/<op>.cases.ts) through every engine: parity with the float64
// reference, gradients against finite differences, and no buffer left behind.
const files = import.meta.glob<{ cases: OpCase[] }>('./*.cases.ts', { eager: true });
const all = Object.entries(files).flatMap(([path, m]) =>
  m.cases.map((c) => ({ op: path.replace(/^\.\/(.*)\.cases\.ts$/, '$1'), c })));

let list: EngineUnderTest[] = [];
/** wasm with worker threads, for the thread-count invariance every wasm kernel promises. */
let threaded: Engine;
beforeAll(async () => {
  list = await enginesUnderTest();
  threaded = await createEngine({ backend: 'wasm', threads: 3 });
});
afterAll(() => {
  for (const e of list) e.engine?.dispose();
  threaded?.dispose();
});
const engineOf = (name: string): EngineUnderTest => list.find((e) => e.name === name)!;

const values = (inp: CaseInput, seed: number): Float32Array =>
  inp.data ? Float32Array.from(inp.data) : randomArray(numel(inp.shape), seed, inp.lo ?? -1, inp.hi ?? 1);
const tensorsOf = (engine: Engine, c: OpCase): Tensor[] => c.inputs.map((inp, i) => engine.tensor(values(inp, 101 + i), inp.shape));

async function output(engine: Engine, c: OpCase): Promise<Float32Array> {
  const y = engine.scope(() => c.run(tensorsOf(engine, c)));
  const data = await y.data();
  y.dispose();
  return data;
}

/** The float64 reference's and single-thread wasm's outputs: each computed once per case, compared twice. */
const memo = { reference: new Map<OpCase, Promise<Float32Array>>(), wasm: new Map<OpCase, Promise<Float32Array>>() };
function outputOnce(name: 'reference' | 'wasm', c: OpCase): Promise<Float32Array> {
  let got = memo[name].get(c);
  if (!got) memo[name].set(c, (got = output(engineOf(name).engine!, c)));
  return got;
}

for (const { op, c } of all) describe(`${op}: ${c.name}`, () => {
  it.for(['wasm', 'webgpu'] as const)('%s agrees with the float64 reference', async (name, ctx) => {
    const { engine, skipReason } = engineOf(name);
    if (!engine) return ctx.skip(skipReason);
    const want = await outputOnce('reference', c);
    const got = name === 'wasm' ? await outputOnce('wasm', c) : await output(engine, c);
    const tol = c.tolerance ?? tolerance[name];
    expect(worstMismatch(got, want, tol)).toBeNull();
  });

  it('wasm with 3 threads gives the same bits as 1 thread', async () => {
    expectIdentical(await output(threaded, c), await outputOnce('wasm', c), `${op}: ${c.name}`);
  });

  it.for(['reference', 'wasm', 'webgpu'] as const)('%s leaves only the result alive outside a scope', async (name, ctx) => {
    const { engine, skipReason } = engineOf(name);
    if (!engine) return ctx.skip(skipReason);
    const xs = tensorsOf(engine, c);
    const before = engine.memory();
    const y = c.run(xs);
    expect(engine.memory().tensors - before.tensors).toBe(1);
    y.dispose();
    for (const x of xs) x.dispose();
    expect(engine.memory().buffers).toBe(before.buffers - xs.length);
  });

  // Cases with grad: false are parity-only (too large for finite differences, or no gradient); the
  // smaller cases of the same op check the rule.
  if (c.grad !== false) it('gradients match finite differences (float64)', async () => {
    const engine = engineOf('reference').engine!;
    const checked = Array.isArray(c.grad) ? c.grad : c.inputs.map((_, i) => i);
    const inputs = c.inputs.map((inp, i) => ({ shape: inp.shape, data: Float64Array.from(values(inp, 101 + i)) }));
    const { maxError, where } = await gradCheck(engine, (xs) => c.run(xs), inputs, 7, 1e-6, checked);
    expect(maxError, where).toBeLessThan(1e-6);
  });
});
