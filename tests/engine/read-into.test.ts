import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import * as ops from '../../src/ops/index.js';
import { randomArray } from '../helpers/random.js';

// data(into) / dataSync(into) copy into a caller-owned array; the values must be exactly what data() returns.
const engines: Array<[string, Engine]> = [];
beforeAll(async () => {
  engines.push(['reference', await createEngine({ backend: 'reference' })]);
  engines.push(['wasm 1 thread', await createEngine({ backend: 'wasm', threads: 1 })]);
  engines.push(['wasm 2 threads', await createEngine({ backend: 'wasm', threads: 2 })]);
});
afterAll(() => { for (const [, e] of engines) e.dispose(); });

describe('reading into a caller-owned array', () => {
  it.for([0, 1, 2])('engine %i: data(into) and dataSync(into) equal data()', async (i) => {
    const [, engine] = engines[i]!;
    const x = engine.tensor(randomArray(3 * 257, 7, -3, 3), [3, 257]);
    const y = ops.exp(x);
    const fresh = await y.data();
    const into = new Float32Array(y.size).fill(Number.NaN);
    expect(await y.data(into)).toBe(into);
    expect(into).toEqual(fresh);
    const again = new Float32Array(y.size);
    expect(y.dataSync(again)).toBe(again);
    expect(again).toEqual(fresh);
    // The copy is the caller's: later writes to the tensor's memory do not reach it.
    const before = into.slice();
    const z = ops.mul(y, 2);
    await z.data(into);
    expect(into).toEqual(Float32Array.from(before, (v) => v * 2));
    x.dispose(); y.dispose(); z.dispose();
  });

  it('falls back to read() + set() on a backend without readInto (as WebGPU)', async () => {
    const engine = await createEngine({ backend: 'reference' });
    const backend = engine.backend as { readInto?: unknown };
    expect(typeof backend.readInto).toBe('function');
    delete backend.readInto;
    const t = ops.sigmoid(engine.tensor(randomArray(40, 3), [5, 8]));
    const into = new Float32Array(40);
    expect(await t.data(into)).toBe(into);
    expect(into).toEqual(await t.data());
    engine.dispose();
  });

  it('rejects an array of the wrong length or type with one line naming both sizes', async () => {
    const [, engine] = engines[1]!;
    const t = engine.tensor([1, 2, 3, 4], [2, 2]);
    await expect(t.data(new Float32Array(3))).rejects.toThrow(/into has 3 floats but tensor \[2, ?2\] has 4/);
    expect(() => t.dataSync(new Float32Array(5))).toThrow(/into has 5 floats/);
    expect(() => t.dataSync(new Float64Array(4) as unknown as Float32Array)).toThrow(/into must be a Float32Array/);
    t.dispose();
  });
});
