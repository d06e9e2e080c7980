import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';
import { randomArray } from '../helpers/random.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';

// Gradients on wasm and webgpu come from the same rules as on reference: a small flow-like
// computation differentiated on every backend must agree with the float64 oracle.
let list: EngineUnderTest[] = [];
beforeAll(async () => { list = await enginesUnderTest(); });
afterAll(() => { for (const e of list) e.engine?.dispose(); });

function model(engine: Engine) {
  const x = engine.tensor(randomArray(2 * 4 * 6 * 5, 1), [2, 4, 6, 5]);
  const w = engine.tensor(randomArray(8 * 4 * 3 * 3, 2, -0.3, 0.3), [8, 4, 3, 3]);
  const b = engine.tensor(randomArray(8, 3), [8]);
  const K = engine.tensor(randomArray(4 * 1 * 3 * 3, 4, -0.3, 0.3), [4, 1, 3, 3]);
  const m = engine.tensor(randomArray(4 * 5, 5), [4, 5]);
  const params = [w, b, K, m];
  const loss = (): Tensor => {
    const h = ops.tanh(ops.conv2d(x, w, { pad: 'same', bias: b }));
    const [shift, logScale] = ops.split(h, 2, 1);
    const y = ops.add(ops.mul(x, ops.exp(ops.mul(ops.sigmoid(logScale!), 0.5))), shift!);
    const z = ops.solve(y, K, { groups: 4, corners: ['tl', 'tr', 'bl', 'br'], unitDiag: true });
    const s = ops.squeeze(ops.flip(ops.slice(z, 3, 0, 4), { h: true }));
    const p = ops.matmul(ops.reshape(ops.mean(s, [2, 3]), [2, 16]), ops.reshape(ops.concat([m, m, m, m], 0), [16, 5]));
    return ops.add(ops.mean(ops.square(p)), ops.sum(ops.softplus(ops.relu(z)), undefined));
  };
  return { params, loss };
}

describe('gradients agree across backends', () => {
  it.for(['wasm', 'webgpu'] as const)('%s vs reference', async (name, ctx) => {
    const target = list.find((e) => e.name === name)!;
    if (!target.engine) return ctx.skip(target.skipReason);
    const results: Float32Array[][] = [];
    for (const engine of [list[0]!.engine!, target.engine]) {
      const { params, loss } = model(engine);
      const { value, grads } = engine.valueAndGrads(loss, params);
      results.push([await value.data(), ...(await Promise.all(grads.map((g) => g.data())))]);
      for (const t of [value, ...grads, ...params]) t.dispose();
    }
    const [want, got] = results as [Float32Array[], Float32Array[]];
    want.forEach((w, i) => {
      expect(worstMismatch(got[i]!, w, tolerance[name]), `output ${i} (0 = loss, then grads of w, b, K, m)`).toBeNull();
    });
  });
});
