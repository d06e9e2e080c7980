import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { CouplingNet } from '../../src/layers/coupling-net.js';
import { DigitClassifier } from '../../src/models/classifier.js';
import {
  Conv2d, decodeStateDict, Dropout, Embedding, encodeStateDict, Linear, loadSafetensors, Module, ModuleBuffer, Param,
  ResidualBlock, Sequential, timestepEmbedding, toSafetensors, type ModuleBuffer as Buf,
} from '../../src/nn/index.js';
import { add, conv2d, matmul, mean, mul, relu, sub, sum } from '../../src/ops/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

/** A module with a buffer: the running mean of its inputs (updated in train mode only), subtracted from them. */
class Centering extends Module {
  readonly running: Buf;
  readonly scale: Param;
  constructor(e: Engine, readonly features: number) {
    super(e);
    this.scale = this.param('scale', e.tensor(new Float32Array(features).fill(1), [features]));
    this.running = this.buffer('running_mean', e.zeros([features]));
  }
  forward(x: Tensor): Tensor {
    if (this.training) {
      const next = this.engine.noGrad(() => this.engine.scope(() => add(mul(this.running.value, 0.9), mul(mean(x, [0]), 0.1))));
      this.running.value = next;
    }
    return mul(sub(x, this.running.value), this.scale.value);
  }
}

class Net extends Module {
  readonly body: Sequential;
  readonly norm: Centering;
  constructor(e: Engine, seed: number) {
    super(e);
    const rng = new Rng(seed);
    this.body = this.child('body', new Sequential(e, [new Linear(e, 3, 4, { rng }), relu, new Linear(e, 4, 2, { rng })]));
    this.norm = this.child('norm', new Centering(e, 2));
  }
  forward(x: Tensor): Tensor { return this.norm.forward(this.body.forward(x)); }
}

const arrays = async (m: Module) => new Map([...(await m.stateDict())].map(([k, v]) => [k, Array.from(v.data)]));

describe('Module state', () => {
  it('names parameters and buffers by dotted path; buffers are in the state dict but not among the parameters', () => {
    const net = new Net(engine, 1);
    expect([...net.namedParams().keys()]).toEqual(['body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias', 'norm.scale']);
    expect([...net.namedBuffers().keys()]).toEqual(['norm.running_mean']);
    expect([...net.namedState().keys()]).toEqual([...net.namedParams().keys(), 'norm.running_mean']);
    expect(net.parameters().every((p) => p instanceof Param)).toBe(true);
    expect(net.buffers()[0]).toBeInstanceOf(ModuleBuffer);
    expect(net.paramCount()).toBe(3 * 4 + 4 + 4 * 2 + 2 + 2);
    net.dispose();
  });

  it('round-trips a state dict with buffers through safetensors bytes', async () => {
    const a = new Net(engine, 1);
    a.forward(engine.tensor([1, 2, 3, -1, 0, 4], [2, 3]));     // moves the buffer away from zero
    const bytes = await toSafetensors(a, { note: 'hello' });
    const { state, metadata } = decodeStateDict(bytes);
    expect(metadata.note).toBe('hello');
    expect(state.get('norm.running_mean')!.data.some((v) => v !== 0)).toBe(true);

    const b = new Net(engine, 2);
    expect(await arrays(b)).not.toEqual(await arrays(a));
    expect(loadSafetensors(b, bytes)).toEqual({ note: 'hello' });
    expect(await arrays(b)).toEqual(await arrays(a));
    // encodeStateDict of the same dict gives the same bytes.
    expect(Array.from(encodeStateDict(await b.stateDict(), { note: 'hello' }))).toEqual(Array.from(bytes));
    a.dispose();
    b.dispose();
  });

  it('loadStateDict names missing, unexpected and mis-shaped entries in one line and changes nothing', async () => {
    const net = new Net(engine, 1);
    const before = await arrays(net);
    const state = await net.stateDict();
    state.delete('body.0.bias');
    state.delete('norm.running_mean');
    state.set('body.9.weight', { shape: [1], data: new Float32Array(1) });
    state.set('body.2.weight', { shape: [2, 4], data: new Float32Array(8) });
    let message = '';
    try {
      net.loadStateDict(state);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('\n');
    expect(message).toMatch(/missing 'body\.0\.bias', 'norm\.running_mean'/);
    expect(message).toMatch(/unexpected 'body\.9\.weight'/);
    expect(message).toMatch(/'body\.2\.weight' has shape \[2, 4\] but the module's is \[4, 2\]/);
    expect(await arrays(net)).toEqual(before);

    // Non-strict: missing and unknown entries are let through, shapes are still checked.
    const partial = new Map([['norm.scale', { shape: [2], data: new Float32Array([5, 6]) }], ['extra', { shape: [1], data: new Float32Array(1) }]]);
    net.loadStateDict(partial, { strict: false });
    expect(Array.from(await net.norm.scale.value.data())).toEqual([5, 6]);
    expect(() => net.loadStateDict(new Map([['norm.scale', { shape: [3], data: new Float32Array(3) }]]), { strict: false })).toThrow(/has shape \[3\]/);
    expect(() => net.loadStateDict(new Map([['norm.scale', { shape: [2], data: new Float32Array(3) }]]), { strict: false })).toThrow(/3 values for shape \[2\]/);
    net.dispose();
  });

  it('train() / eval() reach every child, and a new child takes its parent\'s mode', () => {
    const net = new Net(engine, 1);
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().map((m) => m.training)).toEqual(net.modules().map(() => false));
    net.body.train();
    expect(net.training).toBe(false);
    expect(net.body.modules().every((m) => m.training)).toBe(true);
    net.train(false);
    class Holder extends Module { add(m: Module) { return this.child('late', m); } }
    const h = new Holder(engine).eval();
    expect(h.add(new Linear(engine, 2, 2)).training).toBe(false);
    // Eval mode freezes the buffer.
    const x = engine.tensor([1, 2, 3], [1, 3]);
    const before = Array.from(net.norm.running.value.dataSync());
    net.forward(x);
    expect(Array.from(net.norm.running.value.dataSync())).toEqual(before);
    net.train().forward(x);
    expect(Array.from(net.norm.running.value.dataSync())).not.toEqual(before);
    net.dispose();
    h.dispose();
  });

  it('refuses a name registered twice', () => {
    class Twice extends Module {
      constructor(e: Engine) { super(e); this.param('w', e.zeros([1])); this.buffer('w', e.zeros([1])); }
    }
    expect(() => new Twice(engine)).toThrow(/cannot add buffer 'w': the name is already taken/);
  });
});

describe('modules', () => {
  it('Linear is x·W + b with W [in, out]; Conv2d passes padding, groups and bias to conv2d', async () => {
    const lin = new Linear(engine, 3, 2, { rng: new Rng(1) });
    const x = engine.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(lin.weight.shape).toEqual([3, 2]);
    const want = await add(matmul(x, lin.weight.value), lin.bias!.value).data64();
    expect(Array.from(await lin.forward(x).data64())).toEqual(Array.from(want));
    expect(lin.forward(engine.tensor(new Float32Array(12), [2, 2, 3])).shape).toEqual([2, 2, 2]);
    expect(() => lin.forward(engine.zeros([2, 4]))).toThrow(/Linear\(3 → 2\) takes \[\.\.\., 3\], got \[2, 4\]/);
    expect(new Linear(engine, 3, 2, { bias: false }).namedParams().size).toBe(1);

    const conv = new Conv2d(engine, 4, 6, 3, { groups: 2, padding: 'same', rng: new Rng(2) });
    expect(conv.weight.shape).toEqual([6, 2, 3, 3]);
    const img = engine.tensor(new Rng(3).normals(2 * 4 * 5 * 5), [2, 4, 5, 5]);
    const direct = await conv2d(img, conv.weight.value, { bias: conv.bias!.value, pad: 'same', groups: 2 }).data64();
    expect(Array.from(await conv.forward(img).data64())).toEqual(Array.from(direct));
    // PyTorch's default init: U(±1/√fanIn), fanIn = 2·3·3.
    const w = await conv.weight.value.data64();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(18));
  });

  it('Conv2d passes stride and dilation to the op', async () => {
    const x = engine.tensor(new Rng(8).normals(2 * 7 * 7), [1, 2, 7, 7]);
    const strided = new Conv2d(engine, 2, 3, 3, { stride: 2, padding: 1, rng: new Rng(9) });
    const y = strided.forward(x);
    expect(y.shape).toEqual([1, 3, 4, 4]);
    const direct = await conv2d(x, strided.weight.value, { bias: strided.bias!.value, pad: 1, stride: [2, 2] }).data64();
    expect(Array.from(await y.data64())).toEqual(Array.from(direct));
    expect(new Conv2d(engine, 2, 3, 3, { dilation: 2 }).forward(x).shape).toEqual([1, 3, 3, 3]);
    expect(() => new Conv2d(engine, 3, 4, 3, { groups: 2 })).toThrow(/groups = 2 must be a positive integer dividing inChannels 3/);
    expect(() => new Conv2d(engine, 2, 2, 3, { stride: 0 })).toThrow(/stride = 0 must be a positive integer/);
  });

  it('Sequential names modules by position, as PyTorch', () => {
    const e = engine;
    const seq = new Sequential(e, [new Conv2d(e, 1, 2, 3), relu, new Conv2d(e, 2, 1, 1)]);
    expect([...seq.namedParams().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.forward(e.zeros([1, 1, 5, 5])).shape).toEqual([1, 1, 3, 3]);
  });

  it('Embedding picks rows, and its gradient reaches only the rows used', async () => {
    const emb = new Embedding(engine, 4, 3, { rng: new Rng(4) });
    const w = await emb.weight.value.data64();
    const rows = await emb.forward([2, 0, 2]).data64();
    expect(Array.from(rows)).toEqual([...w.slice(6, 9), ...w.slice(0, 3), ...w.slice(6, 9)]);
    const { grads } = engine.valueAndGrads(() => sum(emb.forward([2, 0, 2])), [emb.weight.value]);
    expect(Array.from(await grads[0]!.data64())).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 0, 0, 0]);
    expect(() => emb.forward([4])).toThrow(/index 4 at position 0 is outside 0…3/);
  });

  it('Dropout is the identity in eval mode; in train mode a seeded mask, new per call', async () => {
    const x = engine.tensor(new Float32Array(64).fill(1), [4, 16]);
    const drop = new Dropout(engine, 0.5, 3);
    expect(drop.eval().forward(x)).toBe(x);
    drop.train();
    const a = Array.from(await drop.forward(x).data()), b = Array.from(await drop.forward(x).data());
    expect(drop.calls).toBe(2);
    expect(new Set([...a, ...b])).toEqual(new Set([0, 2]));
    expect(a).not.toEqual(b);
    expect(Array.from(await new Dropout(engine, 0.5, 3).forward(x).data())).toEqual(a);
    expect(() => new Dropout(engine, 1)).toThrow(/p = 1 must be in \[0, 1\)/);
  });

  it('timestep embedding: cos then sin of t·maxPeriod^(−i/half)', async () => {
    const e = await timestepEmbedding(engine, [0, 3], 6, 100).data64();
    const f = [1, 100 ** (-1 / 3), 100 ** (-2 / 3)];
    const want = [0, 3].flatMap((t) => [...f.map((w) => Math.cos(t * w)), ...f.map((w) => Math.sin(t * w))]);
    e.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    expect(timestepEmbedding(engine, [1], 5).shape).toEqual([1, 5]);
  });

  it('a residual block starts as the identity (or its 1×1 skip) and takes a conditioning vector', async () => {
    const x = engine.tensor(new Rng(5).normals(2 * 3 * 4 * 4), [2, 3, 4, 4]);
    const same = new ResidualBlock(engine, 3, { rng: new Rng(6) });
    expect(Array.from(await same.forward(x).data64())).toEqual(Array.from(await x.data64()));
    const wide = new ResidualBlock(engine, 3, { outChannels: 5, embDim: 8, rng: new Rng(7) });
    expect([...wide.namedChildren().keys()]).toEqual(['conv1', 'emb', 'conv2', 'skip']);
    const emb = timestepEmbedding(engine, [1, 7], 8);
    expect(wide.forward(x, emb).shape).toEqual([2, 5, 4, 4]);
    expect(() => wide.forward(x)).toThrow(/takes a conditioning vector \[N, 8\]/);
    const params = wide.parameters();
    const { grads } = engine.valueAndGrads(() => sum(mul(wide.forward(x, emb), wide.forward(x, emb))), params.map((p) => p.value));
    expect(grads.length).toBe(params.length);
  });
});

describe('models built from modules keep their state-dict names', () => {
  const fileNames = (path: string) => [...decodeSafetensors(readFileSync(path), path).tensors.keys()];

  it('the digit classifier: Conv2d / Linear children named as in models/mnist-classifier.safetensors', () => {
    const m = new DigitClassifier(engine);
    expect([...m.namedParams().keys()]).toEqual(fileNames('models/mnist-classifier.safetensors'));
    expect(m.parameters().map((p) => p.shape)).toEqual([[16, 1, 3, 3], [16], [32, 64, 3, 3], [32], [32, 128, 3, 3], [32], [1568, 10], [10]]);
    m.dispose();
  });

  it('the coupling network: conv1, conv2, out (with logs) and the class embedding, as in models/finc-mnist.safetensors', () => {
    const net = new CouplingNet(engine, { inChannels: 2, outChannels: 4, width: 96, classes: 10 });
    const prefix = 'flow.levels.0.steps.0.coupling.net.';
    const inFile = fileNames('models/finc-mnist.safetensors').filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
    expect([...net.namedParams().keys()]).toEqual(inFile);
    net.dispose();
  });
});
