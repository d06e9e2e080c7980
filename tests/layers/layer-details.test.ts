import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine, KernelCall } from '../../src/engine/engine.js';
import type { KernelDef } from '../../src/engine/kernel.js';
import { CIncConv, EmergingConv, FIncUnit, Rng, InverseConv, Squeeze } from '../../src/layers/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

/** The kernels a function launches, in order. */
function opsOf(fn: () => unknown): string[] {
  const seen: string[] = [];
  const run = engine.run.bind(engine);
  engine.run = ((op: string | KernelDef, call: KernelCall<unknown>) => {
    seen.push(typeof op === 'string' ? op : op.name);
    return run(op as KernelDef, call);
  }) as Engine['run'];
  try { engine.scope(fn); } finally { engine.run = run; }
  return seen;
}

describe('layer details', () => {
  it('squeeze puts pixel (2i + dy, 2j + dx) of channel c at channel 4c + 2dy + dx (docs/flows.md §12)', async () => {
    const x = engine.tensor(Float64Array.from({ length: 2 * 16 }, (_, i) => i), [1, 2, 4, 4]);
    const y = await new Squeeze(engine).encode(x).y.data64();
    for (let c = 0; c < 2; c++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++)
      expect(y[((4 * c + 2 * dy + dx) * 2 + i) * 2 + j]).toBe(c * 16 + (2 * i + dy) * 4 + 2 * j + dx);
  });

  it('FInC decode is one grouped solve over all four corner groups, with no flips of activations', () => {
    const f = new FIncUnit(engine, { channels: 8, kernelSize: 3 }, new Rng(1));
    const y = engine.tensor(new Rng(2).uniforms(8 * 25, -1, 1), [1, 8, 5, 5]);
    const ops = opsOf(() => f.decode(y));
    expect(ops.filter((o) => o === 'solve')).toHaveLength(1);
    expect(ops).not.toContain('flip');
    f.dispose();
  });

  it('Inverse-Flow encodes with one solve and decodes with convolutions only', () => {
    const l = new InverseConv(engine, { channels: 8, kernelSize: 2 }, new Rng(1));
    const x = engine.tensor(new Rng(3).uniforms(8 * 25, -1, 1), [1, 8, 5, 5]);
    expect(opsOf(() => l.encode(x)).filter((o) => o === 'solve')).toHaveLength(1);
    const dec = opsOf(() => l.decode(x));
    expect(dec).not.toContain('solve');
    expect(dec).toContain('conv2d');
    l.dispose();
  });

  it('raster and wavefront schedules decode a whole model identically (float64)', async () => {
    const { fincFlow, cincFlow } = await import('../../src/models/index.js');
    for (const build of [fincFlow, cincFlow]) {
      const m = build('tiny', { engine, seed: 3 });
      const z = m.sampleLatents(2, { seed: 4 });
      const a = await m.decode(z).data64();
      m.setSolveAlgorithm('raster');
      const b = await m.decode(z).data64();
      expect(a.every((v, i) => Math.abs(v - b[i]!) < 1e-12)).toBe(true);
      m.dispose();
    }
  });

  it('the Emerging-style baseline decodes with two sequential raster solves', () => {
    const l = new EmergingConv(engine, { channels: 4, kernelSize: 3 }, new Rng(1));
    const y = engine.tensor(new Rng(5).uniforms(4 * 25, -1, 1), [1, 4, 5, 5]);
    const seen: string[] = [];
    const run = engine.run.bind(engine);
    engine.run = ((op: string | KernelDef, call: KernelCall<unknown>) => {
      if ((typeof op === 'string' ? op : op.name) === 'solve') seen.push((call.attrs as { algorithm: string }).algorithm);
      return run(op as KernelDef, call);
    }) as Engine['run'];
    try { engine.scope(() => l.decode(y)); } finally { engine.run = run; }
    expect(seen).toEqual(['raster', 'raster']);
    l.dispose();
  });

  it('CInC diagonal exp(s) stays positive for any parameter value, and the log-det is H·W·Σs', async () => {
    const l = new CIncConv(engine, { channels: 3, kernelSize: 3 }, new Rng(1));
    l.logDiag.value = engine.tensor([-30, 0.5, 3], [3]);
    const K = await l.kernel().data64();
    const diag = [0, 1, 2].map((c) => K[((c * 3 + c) * 3 + 2) * 3 + 2]!);
    expect(diag.every((d) => d > 0)).toBe(true);
    const ld = await l.encode(engine.zeros([2, 3, 4, 5])).logdet.data64();
    expect(ld[0]).toBeCloseTo(20 * (-30 + 0.5 + 3), 9);
    l.dispose();
  });
});
