import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import * as ops from '../../src/ops/index.js';

// Bad input gives an Error naming the op and the shapes, before any kernel runs.
let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

describe('bad input', () => {
  const t = (shape: number[]) => engine.zeros(shape);

  it('shape mismatches name the op and both shapes', () => {
    expect(() => ops.add(t([2, 3]), t([4, 3]))).toThrow(/add: shapes \[2, 3\] and \[4, 3\] cannot be broadcast/);
    expect(() => ops.matmul(t([2, 3]), t([4, 5]))).toThrow(/matmul: inner dimensions differ: \[2, 3\] · \[4, 5\]/);
    expect(() => ops.conv2d(t([1, 3, 5, 5]), t([4, 2, 3, 3]))).toThrow(/conv2d: weight \[4, 2, 3, 3\] expects 2 input channels but input \[1, 3, 5, 5\] has 3/);
    expect(() => ops.concat([t([1, 2, 3, 3]), t([1, 2, 4, 3])])).toThrow(/concat: shapes \[1, 2, 3, 3\], \[1, 2, 4, 3\] differ outside axis 1/);
    expect(() => ops.solve(t([1, 4, 3, 3]), t([4, 2, 3, 3]))).toThrow(/solve: kernel \[4, 2, 3, 3\] must be \[4, 4, k, k\]/);
    expect(() => ops.conv2d(t([1, 2, 5, 5]), t([2, 2, 3, 3]), { bias: t([3]) })).toThrow(/conv2d: bias \[3\] must be \[2\]/);
  });

  it('wrong ranks are refused', () => {
    expect(() => ops.conv2d(t([3, 5, 5]), t([4, 3, 3, 3]))).toThrow(/conv2d: input must be rank 4 \[N, C, H, W\], got \[3, 5, 5\]/);
    expect(() => ops.squeeze(t([4, 4]))).toThrow(/squeeze: input must be rank 4/);
    expect(() => ops.matmul(t([2]), t([2, 2]))).toThrow(/matmul: operands must be rank 2 or 3/);
    expect(() => engine.zeros([1, 2, 3, 4, 5, 6, 7])).toThrow(/rank 7 shape \[1, 2, 3, 4, 5, 6, 7\]: tensors have rank 0 to 6/);
  });

  it('a disposed tensor cannot be used', async () => {
    const x = t([2, 2]);
    x.dispose();
    expect(() => ops.exp(x)).toThrow(/exp: tensor #\d+ \[2, 2\] was disposed/);
    await expect(x.data()).rejects.toThrow(/data: tensor #\d+ \[2, 2\] was disposed/);
    expect(() => x.dispose()).not.toThrow();
  });

  it('unsupported paddings and kernel sizes are refused', () => {
    const x = t([1, 1, 4, 4]);
    expect(() => ops.conv2d(x, t([1, 1, 3, 3]), { pad: -1 })).toThrow(/conv2d: padding left = -1/);
    expect(() => ops.conv2d(x, t([1, 1, 3, 3]), { pad: 3 })).toThrow(/conv2d: padding .* is not smaller than the 3×3 kernel/);
    expect(() => ops.conv2d(x, t([1, 1, 7, 7]))).toThrow(/conv2d: kernel 7×7 is larger than the padded input \[1, 1, 4, 4\]/);
    expect(() => ops.solve(x, t([1, 1, 3, 2]))).toThrow(/solve: kernel \[1, 1, 3, 2\] must be square/);
    expect(() => ops.solve(t([1, 4, 4, 4]), t([4, 1, 3, 3]), { groups: 4, corners: ['tl', 'xx' as 'tl', 'bl', 'br'] })).toThrow(/unknown corner 'xx'/);
    expect(() => ops.squeeze(t([1, 1, 3, 4]))).toThrow(/squeeze: height and width of \[1, 1, 3, 4\] must be even/);
  });

  it('data that does not fill the shape, and absurd sizes, are refused without allocating', () => {
    expect(() => engine.tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values do not fill shape \[2, 2\]/);
    expect(() => engine.zeros([1e6, 1e6])).toThrow(/more than the limit/);
    expect(() => engine.zeros([2, 0])).toThrow(/every dimension must be a positive integer/);
  });

  it('a scalar loss is required for gradients', () => {
    const x = t([2]);
    expect(() => engine.valueAndGrads(() => ops.exp(x), [x])).toThrow(/valueAndGrads: f must return a scalar, got shape \[2\]/);
  });

  it('unknown backends are refused by name', async () => {
    await expect(createEngine({ backend: 'cuda' as 'wasm' })).rejects.toThrow(/unknown backend 'cuda'/);
    await expect(createEngine({ backend: 'wasm', threads: 0 })).rejects.toThrow(/threads = 0/);
  });
});
