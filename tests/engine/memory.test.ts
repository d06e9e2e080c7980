import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';
import { randomArray } from '../helpers/random.js';

let list: EngineUnderTest[] = [];
beforeAll(async () => { list = await enginesUnderTest(); });
afterAll(() => { for (const e of list) e.engine?.dispose(); });

describe.each(['reference', 'wasm', 'webgpu'] as const)('memory on %s', (name) => {
  const get = () => list.find((e) => e.name === name)!;

  it('scope frees everything except what it returns and what was kept', async (ctx) => {
    const { engine, skipReason } = get();
    if (!engine) return ctx.skip(skipReason);
    const before = engine.memory();
    let kept: Tensor | null = null;
    const out = engine.scope(() => {
      const a = engine.ones([2, 3]);
      const b = ops.add(a, 1);
      kept = ops.mul(b, 2).keep();
      ops.exp(b);
      return { result: ops.sum(b), list: [ops.neg(a)] };
    });
    expect(engine.memory().tensors - before.tensors).toBe(3);
    expect(await out.result.item()).toBeCloseTo(12, 5);
    out.result.dispose();
    out.list[0]!.dispose();
    kept!.dispose();
    expect(engine.memory().tensors).toBe(before.tensors);
    expect(engine.memory().buffers).toBe(before.buffers);
  });

  it('every op outside a scope leaves nothing but its own result', async (ctx) => {
    const { engine, skipReason } = get();
    if (!engine) return ctx.skip(skipReason);
    const x = engine.tensor(randomArray(2 * 4 * 4 * 6, 4), [2, 4, 4, 6]);
    const m = engine.tensor(randomArray(6 * 3, 5), [6, 3]);
    const K = engine.tensor(randomArray(4 * 4 * 9, 6, -0.2, 0.2), [4, 4, 3, 3]);
    const rows = ops.reshape(x, [32, 6]), m3 = ops.reshape(m, [1, 6, 3]);
    const before = engine.memory();
    const calls: Array<() => Tensor | Tensor[]> = [
      () => ops.sum(x), () => ops.mean(x, [1, 2]), () => ops.max(x, [3]), () => ops.sumSquares(x, [0], true),
      () => ops.matmul(rows, m), () => ops.broadcastTo(m3, [2, 6, 3]),
      () => ops.conv2d(x, K, { pad: 'same' }), () => ops.solve(x, K), () => ops.split(x, 2, 1), () => ops.squeeze(x),
      () => ops.add(x, 1), () => ops.concat([x, x], 3), () => ops.flip(x, { h: true }),
    ];
    for (const call of calls) {
      const out = call();
      for (const t of Array.isArray(out) ? out : [out]) t.dispose();
      const now = engine.memory();
      expect([now.tensors, now.buffers], call.toString()).toEqual([before.tensors, before.buffers]);
    }
    for (const t of [x, m, K, rows, m3]) t.dispose();
  });

  it('200 forward + backward iterations in scopes leave zero live buffers', async (ctx) => {
    const { engine, skipReason } = get();
    if (!engine) return ctx.skip(skipReason);
    const start = engine.memory();
    let w = engine.tensor(randomArray(4 * 2 * 3 * 3, 1, -0.3, 0.3), [4, 2, 3, 3]);
    let K = engine.tensor(randomArray(4 * 4 * 2 * 2, 2, -0.2, 0.2), [4, 4, 2, 2]);
    const x = engine.tensor(randomArray(2 * 2 * 5 * 6, 3), [2, 2, 5, 6]);
    const iterations = name === 'webgpu' ? 200 : 200;
    for (let i = 0; i < iterations; i++) {
      const next = engine.scope(() => {
        const { value, grads } = engine.valueAndGrads(() => {
          const h = ops.relu(ops.conv2d(x, w, { pad: 'same' }));
          const z = ops.solve(h, K, { unitDiag: true });
          return ops.mean(ops.square(ops.tanh(z)));
        }, [w, K]);
        value.dispose();
        return [ops.sub(w, ops.mul(grads[0]!, 0.1)), ops.sub(K, ops.mul(grads[1]!, 0.1))];
      });
      w.dispose();
      K.dispose();
      [w, K] = next as [Tensor, Tensor];
    }
    expect((await w.data()).every(Number.isFinite)).toBe(true);
    for (const t of [w, K, x]) t.dispose();
    engine.flush();
    const end = engine.memory();
    expect(end.tensors).toBe(start.tensors);
    expect(end.buffers).toBe(start.buffers);
    expect(end.bytes).toBe(start.bytes);
  });
});
