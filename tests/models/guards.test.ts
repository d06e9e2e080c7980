import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { InflowError } from '../../src/engine/errors.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { Rng } from '../../src/data/rng.js';
import { DigitClassifier } from '../../src/models/classifier.js';
import * as models from '../../src/models/index.js';
import type { FlowModel } from '../../src/models/index.js';
import { sum } from '../../src/ops/index.js';
import { evaluateBitsPerDim } from '../../src/train/evaluate.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';

// Regression tests for issue 11's library cases: every careless argument is one InflowError line
// naming the argument and its value, never a black image or NaN bits/dim.

const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };
const N = 4;
/** Dequantised pixels 0…255 + ½, spread over the whole range. */
const pixels = (n = N): Float32Array => new Float32Array(n * 64).map((_, i) => ((i * 37) % 256) + 0.5);

/** Runs f (sync or async) and returns the InflowError it threw; fails the test otherwise. */
async function refusal(f: () => unknown): Promise<string> {
  try {
    const r = await f();
    // A result whose check is pending (WebGPU) is refused when read.
    if (r && typeof (r as Tensor).data === 'function') await (r as Tensor).data();
  } catch (e) {
    expect(e).toBeInstanceOf(InflowError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/\n|\[object |undefined|Cannot read|Invalid typed array/);
    return msg;
  }
  throw new Error('expected an InflowError, got a result');
}

let wasm: Engine;
let flow: FlowModel;
let labelled: FlowModel;
beforeAll(async () => {
  wasm = await createEngine({ backend: 'wasm', threads: 1 });
  flow = models.fincFlow(tiny, { engine: wasm });
  labelled = models.glow({ ...tiny, classes: 4 }, { engine: wasm });
  for (const m of [flow, labelled]) m.initialize(wasm.tensor(pixels(), [N, 1, 8, 8]));
});
afterAll(() => {
  flow.dispose();
  labelled.dispose();
  wasm.dispose();
});

describe('sample arguments', () => {
  it.each([
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [1e30, '1e+30'], [-1, '-1'], ['abc', '"abc"'],
  ])('temperature %s is refused', async (t, shown) => {
    const msg = await refusal(() => flow.sample(2, { temperature: t as number }));
    expect(msg).toBe(`FlowModel.sample: temperature = ${shown} must be a finite number in [0, 10] (1 samples the model as trained; lower is cleaner)`);
  });

  it('temperature 0 (the mean latent) and 10 are accepted', async () => {
    for (const temperature of [0, 10]) (await flow.sample(1, { temperature })).dispose();
  });

  it.each([[NaN, 'NaN'], ['abc', '"abc"'], [1.5, '1.5'], [-1, '-1'], [2 ** 32, '4294967296'], [null, 'null']])('seed %s is refused', async (seed, shown) => {
    const msg = await refusal(() => flow.sample(2, { seed: seed as number }));
    expect(msg).toBe(`FlowModel.sample: seed = ${shown} must be an integer from 0 to 4294967295`);
  });

  it('seed NaN no longer samples what seed 0 does; the largest seed works', async () => {
    await refusal(() => flow.sampleLatents(2, { seed: NaN }));
    const last = await flow.sample(1, { seed: 2 ** 32 - 1 });
    expect((await last.data()).every(Number.isFinite)).toBe(true);
    last.dispose();
  });

  it.each([[0, '0'], [-3, '-3'], [1.5, '1.5'], [NaN, 'NaN'], ['16', '"16"']])('n = %s is refused', async (n, shown) => {
    expect(await refusal(() => flow.sample(n as number))).toBe(`FlowModel.sample: n = ${shown} must be a positive integer`);
  });

  it('n beyond the memory budget is refused before anything is allocated', async () => {
    const before = wasm.memory().tensors;
    expect(await refusal(() => flow.sample(1e9))).toMatch(/^FlowModel\.sample: a batch of 1000000000 images .* over the memory budget of 2\.00 GiB/);
    expect(await refusal(() => flow.sampleLatents(1e9))).toMatch(/^FlowModel\.sampleLatents: a batch of 1000000000 images/);
    expect(await refusal(() => flow.drawLatents(2, { output: 'flow' } as never))).toMatch(/^FlowModel\.drawLatents: unknown option "output" \(known: temperature, seed, labels\)/);
    expect(wasm.memory().tensors).toBe(before);
  });

  it('output, unknown options and options of the wrong type are refused', async () => {
    expect(await refusal(() => flow.sample(2, { output: 'png' as 'flow' }))).toBe(`FlowModel.sample: output = "png" must be 'pixels' or 'flow'`);
    expect(await refusal(() => flow.sample(2, { temprature: 0.5 } as never))).toBe('FlowModel.sample: unknown option "temprature" (known: temperature, seed, labels, output)');
    expect(await refusal(() => flow.sample(2, 0.7 as never))).toMatch(/^FlowModel\.sample: options = 0\.7 must be an object/);
  });

  it('labels: out of range, not integers, not an array, too many, or without a class prior', async () => {
    expect(await refusal(() => labelled.sample(2, { labels: [12] }))).toBe('FlowModel.sample: label 12 (image 0) is not a class of this model (0…3)');
    expect(await refusal(() => labelled.sample(2, { labels: [-1] }))).toMatch(/label -1 \(image 0\) is not a class/);
    expect(await refusal(() => labelled.sample(2, { labels: [1, 0.5] }))).toMatch(/label 0\.5 \(image 1\) is not a class/);
    expect(await refusal(() => labelled.sample(2, { labels: [NaN] }))).toMatch(/label NaN \(image 0\) is not a class/);
    expect(await refusal(() => labelled.sample(2, { labels: 3 as never }))).toBe('FlowModel.sample: labels = 3 must be an array of class numbers (0…3)');
    expect(await refusal(() => labelled.sample(2, { labels: [0, 1, 2] }))).toMatch(/3 labels for 2 images/);
    expect(await refusal(() => labelled.sample(2, { labels: [] }))).toMatch(/labels is empty/);
    expect(await refusal(() => flow.sample(2, { labels: [1] }))).toMatch(/labels were given but the model has no class prior/);
    const x = wasm.tensor(pixels(2), [2, 1, 8, 8]);
    expect(await refusal(() => labelled.bitsPerDim(x, [0, 7]))).toBe('FlowModel.bitsPerDim: label 7 (image 1) is not a class of this model (0…3)');
    expect(await refusal(() => labelled.logProb(x, { labels: [0] }))).toBe('FlowModel.logProb: 1 labels for 2 images');
    x.dispose();
  });

  it('a disposed model says so', async () => {
    const m = models.fincFlow(tiny, { engine: wasm });
    m.dispose();
    const x = wasm.tensor(pixels(1), [1, 1, 8, 8]);
    expect(await refusal(() => m.bitsPerDim(x))).toBe('FlowModel.bitsPerDim: the FlowModel was disposed: its weights are freed (build or load it again)');
    expect(await refusal(() => m.sample(1))).toMatch(/^FlowModel\.sample: the FlowModel was disposed/);
    x.dispose();
    expect(await refusal(() => flow.bitsPerDim(x))).toMatch(/^FlowModel\.bitsPerDim: tensor #\d+ \[1, 1, 8, 8\] was disposed and cannot be used$/);
  });

  it('a model seed is checked too, and the generator refuses NaN instead of reading it as 0', async () => {
    expect(await refusal(() => models.fincFlow(tiny, { engine: wasm, seed: NaN }))).toMatch(/^FlowModel: seed = NaN must be an integer from 0 to 4294967295/);
    expect(await refusal(() => new Rng(NaN))).toBe('Rng: seed = NaN must be an integer');
    expect(await refusal(() => new Rng('abc' as never))).toMatch(/^Rng: state = "abc" must be four 32-bit unsigned integers/);
  });
});

describe('pixels in', () => {
  let list: EngineUnderTest[] = [];
  beforeAll(async () => { list = await enginesUnderTest(); });
  afterAll(() => { for (const e of list) e.engine?.dispose(); });

  // WebGPU cannot read synchronously: its refusal comes when the result is read (see ValueChecks).
  describe.each(['reference', 'wasm', 'webgpu'] as const)('on %s', (name) => {
    const setup = (): { engine: Engine; m: FlowModel; c: FlowModel } | null => {
      const engine = list.find((e) => e.name === name)?.engine;
      if (!engine) return null;
      const m = models.fincFlow(tiny, { engine });
      const c = models.fincFlow({ ...tiny, classes: 3 }, { engine });
      const x = engine.tensor(pixels(), [N, 1, 8, 8]);
      m.initialize(x);
      c.initialize(x);
      x.dispose();
      return { engine, m, c };
    };

    it('NaN / ±Infinity pixels and pixels outside [0, 256] are refused on every method', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip('no webgpu adapter');
      const { engine, m } = s;
      const sync = name !== 'webgpu';
      const bad: Array<[number, RegExp]> = [
        [NaN, sync ? /pixel \[1, 0, 2, 3\] = NaN is not in \[0, 256\]/ : /the pixels include NaN or ±Infinity/],
        [Infinity, sync ? /pixel \[1, 0, 2, 3\] = Infinity is not in \[0, 256\]/ : /the pixels include NaN or ±Infinity/],
        [-Infinity, sync ? /= -Infinity is not in \[0, 256\]/ : /the pixels include NaN or ±Infinity/],
        [300, sync ? /pixel \[1, 0, 2, 3\] = 300 is not in \[0, 256\]/ : /the pixels range over \[0\.5, 300\], outside \[0, 256\]/],
        [256.5, /256\.5.*outside|256\.5 is not in/],
        [-0.25, sync ? /pixel \[1, 0, 2, 3\] = -0\.25 is not in \[0, 256\]/ : /the pixels range over \[-0\.25, 25\d\.5\], outside \[0, 256\]/],
      ];
      for (const [v, pattern] of bad) {
        const d = pixels();
        d[64 + 2 * 8 + 3] = v;
        const x = engine.tensor(d, [N, 1, 8, 8]);
        for (const call of [() => m.bitsPerDim(x), () => m.logProb(x), () => sum(m.bitsPerDim(x))]) {
          const msg = await refusal(call);
          expect(msg).toMatch(pattern);
          expect(msg).toMatch(/^FlowModel\.(bitsPerDim|logProb): .*: the model takes dequantised pixels, 0…255 plus uniform noise in \[0, 1\)$/);
        }
        x.dispose();
      }
      // 256 itself is what float32 makes of 255 + u with u near 1: accepted.
      const edge = pixels();
      edge[0] = 256;
      edge[1] = 0;
      const x = engine.tensor(edge, [N, 1, 8, 8]);
      const b = m.bitsPerDim(x);
      expect((await b.data()).every(Number.isFinite)).toBe(true);
      b.dispose();
      x.dispose();
      m.dispose();
      s.c.dispose();
    });

    it('pixels in [0, 1] are refused with a hint, and scored as ×256 with { range: "unit" }', async (ctx) => {
      const s = setup();
      if (!s) return ctx.skip('no webgpu adapter');
      const { engine, m, c } = s;
      const px = pixels();
      const unit = engine.tensor(px.map((v) => v / 256), [N, 1, 8, 8]);
      const full = engine.tensor(px, [N, 1, 8, 8]);
      const hint = "every pixel lies in [0, 1]: these look like normalised images, but the model takes dequantised pixels in [0, 256); pass { range: 'unit' } to rescale them ×256, or { range: 'pixels' } if they really are that dark";
      expect(await refusal(() => m.bitsPerDim(unit))).toBe(`FlowModel.bitsPerDim: ${hint}`);
      expect(await refusal(() => m.logProb(unit))).toBe(`FlowModel.logProb: ${hint}`);
      expect(await refusal(() => c.classLogProbs(unit))).toBe(`FlowModel.classLogProbs: ${hint}`);
      const want = await m.bitsPerDim(full).data64();
      const got = await m.bitsPerDim(unit, { range: 'unit' }).data64();
      // v/256·256 is exact in float32: the same numbers, not merely close ones.
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(Array.from(await c.classLogProbs(unit, { range: 'unit' }).data64())).toEqual(Array.from(await c.classLogProbs(full).data64()));
      // Really dark pixels: { range: 'pixels' } scores them as they are.
      const dark = m.bitsPerDim(unit, { range: 'pixels' });
      expect((await dark.data()).every(Number.isFinite)).toBe(true);
      // Values above 1 with range 'unit' are not silently scaled to 256+.
      expect(await refusal(() => m.bitsPerDim(full, { range: 'unit' }))).toMatch(/not in \[0, 1\]|outside \[0, 1\]/);
      expect(await refusal(() => m.bitsPerDim(full, { range: 'bytes' as 'unit' }))).toBe(`FlowModel.bitsPerDim: range = "bytes" must be 'pixels' or 'unit'`);
      expect(await refusal(() => m.bitsPerDim(full, { labelz: [1] } as never))).toBe('FlowModel.bitsPerDim: unknown option "labelz" (known: labels, range)');
      expect(await refusal(() => m.bitsPerDim(px as never))).toBe('FlowModel.bitsPerDim: x must be a tensor (make one with engine.tensor(values, shape)), got a Float32Array');
      m.dispose();
      c.dispose();
      engine.scope(() => [unit, full]).forEach((t) => t.dispose());
    });
  });
});

describe('values out', () => {
  /**
   * Finite weights far out of range, as a hostile file could hold: the first layer whose name ends
   * in `suffix` filled with `value`. A coupling network's output weights of 1e30 overflow float32 in
   * the log-density; ActNorm log-scales of 1e30 overflow exp() when decoding.
   */
  async function corrupt(m: FlowModel, suffix: string, value: number): Promise<void> {
    const [, p] = [...m.namedParams()].find(([k]) => k.endsWith(suffix))!;
    const v = await p.value.data();
    v.fill(value);
    p.value = m.engine.tensor(v, p.shape);
    await m.prepare();
  }

  it('sample refuses the non-finite pixels that finite but absurd weights make', async () => {
    const m = models.fincFlow(tiny, { engine: wasm });
    m.initialize(wasm.tensor(pixels(), [N, 1, 8, 8]));
    await corrupt(m, 'actnorm.logs', 1e30);
    const before = wasm.memory().tensors;
    for (const output of ['pixels', 'flow'] as const)
      expect(await refusal(() => m.sample(4, { output }))).toBe('FlowModel.sample: the model produced non-finite pixels: its weights are corrupt or out of range');
    expect(wasm.memory().tensors).toBe(before);
    m.dispose();
  });

  it('bitsPerDim / logProb / classLogProbs refuse a non-finite result, naming the image', async () => {
    const m = models.fincFlow({ ...tiny, classes: 3 }, { engine: wasm });
    const x = wasm.tensor(pixels(), [N, 1, 8, 8]);
    m.initialize(x);
    await corrupt(m, 'coupling.net.out.weight', 1e30);
    expect(await refusal(() => m.bitsPerDim(x))).toMatch(/^FlowModel\.bitsPerDim: the model produced a non-finite bits\/dim \((NaN|-?Infinity)\) for image 0: its weights are corrupt or out of range$/);
    expect(await refusal(() => m.logProb(x, [0, 1, 2, 0]))).toMatch(/^FlowModel\.logProb: the model produced a non-finite log-density/);
    expect(await refusal(() => m.classLogProbs(x))).toMatch(/^FlowModel\.classLogProbs: the model produced a non-finite class log-density/);
    // evaluate (the CLI's eval) reports it instead of "NaN bits/dim".
    const data = { name: 'four', count: N, shape: [1, 8, 8] as [number, number, number], images: new Uint8Array(pixels().map(Math.floor)), labels: null };
    await expect(evaluateBitsPerDim(m, data, 2)).rejects.toThrow(/FlowModel\.bitsPerDim: the model produced a non-finite bits\/dim/);
    x.dispose();
    m.dispose();
  });

  it('on webgpu the same refusals come when the result is read', async (ctx) => {
    const list = await enginesUnderTest();
    const gpu = list.find((e) => e.name === 'webgpu')!.engine;
    for (const e of list) if (e.engine !== gpu) e.engine?.dispose();
    if (!gpu) return ctx.skip('no webgpu adapter');
    const m = models.fincFlow(tiny, { engine: gpu });
    const x = gpu.tensor(pixels(), [N, 1, 8, 8]);
    m.initialize(x);
    await m.prepare();
    await corrupt(m, 'coupling.net.out.weight', 1e30);
    const b = m.bitsPerDim(x);
    const total = sum(b);
    await expect(total.item()).rejects.toThrow(/^FlowModel\.bitsPerDim: the model produced a non-finite bits\/dim: its weights are corrupt or out of range$/);
    await corrupt(m, 'actnorm.logs', 1e30);
    expect(await refusal(() => m.sample(2))).toBe('FlowModel.sample: the model produced non-finite pixels: its weights are corrupt or out of range');
    for (const t of [b, total, x]) t.dispose();
    m.dispose();
    gpu.dispose();
  });
});

describe('DigitClassifier', () => {
  it('checks its seed, input shape and pixels', async () => {
    expect(await refusal(() => new DigitClassifier(wasm, undefined, NaN))).toMatch(/^DigitClassifier: seed = NaN must be an integer/);
    const c = new DigitClassifier(wasm);
    const x = wasm.tensor(new Float32Array(2 * 784).fill(10).map((v, i) => (i === 5 ? NaN : v)), [2, 1, 28, 28]);
    expect(await refusal(() => c.predict(x))).toBe('DigitClassifier.logProbs: pixel [0, 0, 0, 5] = NaN is not in [0, 256]: the model takes dequantised pixels, 0…255 plus uniform noise in [0, 1)');
    const wrong = wasm.tensor(new Float32Array(64), [1, 1, 8, 8]);
    expect(await refusal(() => c.logits(wrong))).toBe("DigitClassifier.logits: input [1, 1, 8, 8] does not match the classifier's [N, 1, 28, 28]");
    // Black images (a broken flow's samples) are still judged.
    const black = wasm.tensor(new Float32Array(784), [1, 1, 28, 28]);
    expect((await c.predict(black))[0]!.length).toBe(10);
    for (const t of [x, wrong, black]) t.dispose();
    c.dispose();
  });
});
