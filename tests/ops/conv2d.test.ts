import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { conv2d, conv2dGradFilter, conv2dGradInput, convTranspose2d } from '../../src/ops/index.js';
import { numel, randomArray } from '../helpers/random.js';

// Sizes and validation of the public functions, then the wasm kernels' thread-count independence.
// The wasm conv kernels split tasks over threads; every output must be computed the same way
// whoever computes it, so 1 and 2 threads give bit-identical results (assembly/conv2d.ts).
interface Job { name: string; shapes: number[][]; run: (ts: Tensor[]) => Tensor }

const jobs: Job[] = [
  { name: 'conv2d 3×3 stride 1, groups 2, bias', shapes: [[4, 16, 14, 13], [18, 8, 3, 3], [18]], run: ([x, w, b]) => conv2d(x!, w!, { pad: 1, groups: 2, bias: b! }) },
  { name: 'conv2d 3×3 stride 2, dilation 2', shapes: [[3, 10, 17, 15], [14, 10, 3, 3]], run: ([x, w]) => conv2d(x!, w!, { pad: 2, stride: 2, dilation: 2 }) },
  { name: 'depthwise 3×3 multiplier 2, stride 1, bias', shapes: [[4, 24, 20, 18], [48, 1, 3, 3], [48]], run: ([x, w, b]) => conv2d(x!, w!, { pad: 1, groups: 24, bias: b! }) },
  { name: 'depthwise 3×3 multiplier 2, stride 2', shapes: [[4, 24, 32, 30], [48, 1, 3, 3]], run: ([x, w]) => conv2d(x!, w!, { pad: 1, stride: 2, groups: 24 }) },
  { name: 'conv2dGradInput stride 2', shapes: [[3, 14, 9, 8], [14, 10, 3, 3]], run: ([dy, w]) => conv2dGradInput(dy!, w!, [3, 10, 17, 15], { pad: 2, stride: 2, dilation: 2 }) },
  { name: 'conv2dGradFilter stride 2, depthwise', shapes: [[4, 24, 32, 30], [4, 48, 16, 15]], run: ([x, dy]) => conv2dGradFilter(x!, dy!, [48, 1, 3, 3], { pad: 1, stride: 2, groups: 24 }) },
  { name: 'conv2dGradFilter stride 1', shapes: [[4, 16, 14, 13], [4, 18, 14, 13]], run: ([x, dy]) => conv2dGradFilter(x!, dy!, [18, 8, 3, 3], { pad: 1, groups: 2 }) },
  { name: 'convTranspose2d 4×4 stride 2', shapes: [[3, 16, 9, 8], [16, 6, 4, 4]], run: ([x, w]) => convTranspose2d(x!, w!, { stride: 2, padding: 1 }) },
];

describe('conv2d validation and sizes', () => {
  let e: Engine;
  beforeAll(async () => { e = await createEngine({ backend: 'reference' }); });
  afterAll(() => e?.dispose());
  const t = (shape: number[]) => e.tensor(new Float32Array(numel(shape)), shape);

  it('sizes follow floor((H + pads − dilation·(k−1) − 1) / stride) + 1; "same" at stride s gives ceil(H/s)', () => {
    const x = t([1, 2, 9, 8]);
    expect(conv2d(x, t([3, 2, 3, 3]), { stride: 2, pad: [1, 0, 2, 1] }).shape).toEqual([1, 3, 5, 4]);
    expect(conv2d(x, t([3, 2, 3, 2]), { stride: [3, 2], dilation: 2, pad: 'same' }).shape).toEqual([1, 3, 3, 4]);
    expect(conv2d(x, t([4, 1, 3, 3]), { groups: 2, dilation: [1, 3] }).shape).toEqual([1, 4, 7, 2]);
    expect(convTranspose2d(t([1, 2, 4, 5]), t([2, 3, 4, 4]), { stride: 2, padding: 1 }).shape).toEqual([1, 3, 8, 10]);
    expect(convTranspose2d(t([1, 2, 4, 5]), t([2, 3, 3, 3]), { stride: 2, padding: 'same' }).shape).toEqual([1, 3, 8, 10]);
    expect(convTranspose2d(t([1, 4, 3, 3]), t([4, 1, 3, 3]), { stride: 3, dilation: 2, groups: 4, outputPadding: [2, 1] }).shape).toEqual([1, 4, 13, 12]);
  });

  it('refuses bad geometry with one line naming the op', () => {
    const x = t([1, 2, 6, 6]);
    expect(() => conv2d(x, t([2, 2, 3, 3]), { stride: 0 })).toThrow(/conv2d: stride = 0 must be a positive integer/);
    expect(() => conv2d(x, t([2, 2, 3, 3]), { dilation: [1, 1.5] })).toThrow(/conv2d: dilation = \[1,1.5\]/);
    expect(() => conv2d(x, t([2, 2, 3, 3]), { dilation: 2, pad: 5 })).toThrow(/conv2d: padding .* is not smaller than the 5×5 kernel extent \(dilated\)/);
    expect(() => conv2d(x, t([2, 2, 3, 3]), { dilation: 3 })).toThrow(/conv2d: kernel 3×3 \(dilated extent 7×7\) is larger than the padded input/);
    expect(() => conv2d(x, t([4, 1, 3, 3]), { groups: 3 })).toThrow(/conv2d: groups = 3 must divide input channels 2/);
    expect(() => convTranspose2d(x, t([2, 3, 4, 4]), { stride: 2, outputPadding: 2 })).toThrow(/convTranspose2d: outputPadding 2×2 must be smaller than the stride 2×2/);
    expect(() => convTranspose2d(x, t([3, 3, 4, 4]))).toThrow(/convTranspose2d: weight \[3, 3, 4, 4\] expects 3 input channels but input \[1, 2, 6, 6\] has 2/);
    expect(() => convTranspose2d(x, t([2, 3, 3, 3]), { bias: t([2]) })).toThrow(/convTranspose2d: bias \[2\] must be \[3\]/);
    expect(() => conv2dGradInput(t([1, 2, 4, 4]), t([2, 2, 3, 3]), [1, 2, 6, 6], { pad: 1, stride: 2 }))
      .toThrow(/conv2dGradInput: gradient \[1, 2, 4, 4\] does not match the convolution output \[1, 2, 3, 3\]/);
  });
});

describe('wasm conv threads', () => {
  let one: Engine, two: Engine;
  beforeAll(async () => {
    one = await createEngine({ backend: 'wasm', threads: 1 });
    two = await createEngine({ backend: 'wasm', threads: 2 });
  });
  afterAll(() => { one?.dispose(); two?.dispose(); });

  it.each(jobs)('$name: 2 threads give bit-identical results to 1', async ({ shapes, run }) => {
    expect(two.info().details.threads).toBe(2);
    const data = shapes.map((s, i) => randomArray(numel(s), 31 + i, -0.5, 0.5));
    const out = async (e: Engine) => {
      const y = e.scope(() => run(shapes.map((s, i) => e.tensor(data[i]!, s))));
      const v = await y.data();
      y.dispose();
      return v;
    };
    const a = await out(one), b = await out(two);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });
});
