import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { encodePixels, PixelAutoencoder, pixelAutoencoderParamShapes, pixelAutoencoderPreset, type PixelLayer } from '../../src/geo/pixel-autoencoder.js';
import { randomArray } from '../helpers/random.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine?.dispose());

const show = (ls: PixelLayer[]) => ls.map((l) => `${l.width}${l.activation === 'linear' ? '' : l.activation[0]}`).join(' ');

/** float64 forward of one dense stack from its state dict ([in, out] weights), as the notes describe the layers. */
function hostStack(x: number[], plan: PixelLayer[], state: Map<string, { data: Float32Array }>, name: string): number[] {
  const ALPHA = 1.6732632423543772, SCALE = 1.0507009873554805;
  let h = x;
  plan.forEach((l, i) => {
    const w = state.get(`${name}.${i}.weight`)!.data, b = state.get(`${name}.${i}.bias`)!.data;
    const y = Array.from({ length: l.width }, (_, o) => h.reduce((s, v, t) => s + v * w[t * l.width + o]!, b[o]!));
    h = y.map((v) => (l.activation === 'relu' ? Math.max(0, v) : l.activation === 'selu' ? SCALE * (v > 0 ? v : ALPHA * Math.expm1(v)) : v));
  });
  return h;
}

describe('pixelAutoencoderPreset', () => {
  it('builds the layer widths and activations of the notes', () => {
    const ae = pixelAutoencoderPreset('ae', 10);
    expect(show(ae.encoder)).toBe('10 10 10 9 8 7 6 5');
    expect(show(ae.decoder)).toBe('6 7 8 9 10 10 10 10');
    const sae = pixelAutoencoderPreset('sae', 10);
    expect(show(sae.encoder)).toBe('9r 8 7 6 5 5s');
    expect(show(sae.decoder)).toBe('5s 6 7 8 9 10r');
    expect(show(pixelAutoencoderPreset('sae', 10, 5, { output: 'linear' }).decoder)).toBe('5s 6 7 8 9 10');
    const aster = pixelAutoencoderPreset('sae', 9);
    expect(show(aster.encoder)).toBe('8r 7 6 5 5s');
    expect(show(aster.decoder)).toBe('5s 6 7 8 9r');
  });

  it('follows the generic rule for other band counts and code sizes', () => {
    expect(show(pixelAutoencoderPreset('sae', 7, 3).encoder)).toBe('6r 5 4 3 3s');
    expect(show(pixelAutoencoderPreset('sae', 4, 3).encoder)).toBe('3r 3s');
    expect(show(pixelAutoencoderPreset('ae', 4, 2).decoder)).toBe('3 4 4 4 4');
    // A hyperspectral gap is crossed in at most 8 steps.
    const wide = pixelAutoencoderPreset('sae', 100, 5).encoder;
    expect(wide.length).toBe(9);
    expect(wide.at(-2)!.width).toBe(5);
  });

  it('refuses a code as wide as the input, and unknown variants, in one line', () => {
    expect(() => pixelAutoencoderPreset('sae', 5, 5)).toThrow(/code size must be an integer from 1 to 4/);
    expect(() => pixelAutoencoderPreset('vae' as never, 5)).toThrow(/variant must be 'ae' or 'sae'/);
    expect(() => new PixelAutoencoder(engine, { ...pixelAutoencoderPreset('ae', 6, 2), bands: 7 })).toThrow(/config decoder = .* must end with 7 outputs \(the bands\), not 6/);
  });
});

describe('PixelAutoencoder', () => {
  it('has the parameters its config implies and codes of the requested size', async () => {
    const cfg = pixelAutoencoderPreset('sae', 10, 4);
    const m = new PixelAutoencoder(engine, cfg, { seed: 3 });
    const shapes = pixelAutoencoderParamShapes(cfg);
    expect([...m.namedParams()].map(([k, p]) => [k, [...p.shape]])).toEqual([...shapes]);
    const x = engine.tensor(randomArray(6 * 10, 1), [6, 10]);
    const z = m.encode(x);
    expect([...z.shape]).toEqual([6, 4]);
    expect([...m.forward(x).shape]).toEqual([6, 10]);
    m.dispose();
  });

  it('computes the stacked dense layers with ReLU and SELU exactly as written out in float64', async () => {
    const cfg = pixelAutoencoderPreset('sae', 9);
    const m = new PixelAutoencoder(engine, cfg, { seed: 5 });
    const state = await m.stateDict();
    const xs = randomArray(4 * 9, 2, -2, 2);
    const codes = await m.encode(engine.tensor(xs, [4, 9])).data();
    const recon = await m.forward(engine.tensor(xs, [4, 9])).data();
    for (let i = 0; i < 4; i++) {
      const code = hostStack(Array.from(xs.subarray(i * 9, i * 9 + 9)), cfg.encoder, state, 'encoder');
      const out = hostStack(code, cfg.decoder, state, 'decoder');
      code.forEach((v, j) => expect(codes[i * 5 + j]).toBeCloseTo(v, 5));
      out.forEach((v, j) => expect(recon[i * 9 + j]).toBeCloseTo(v, 5));
    }
    // Different seeds draw different weights; the same seed the same.
    const again = await new PixelAutoencoder(engine, cfg, { seed: 5 }).stateDict();
    const other = await new PixelAutoencoder(engine, cfg, { seed: 6 }).stateDict();
    expect(Array.from(again.get('encoder.0.weight')!.data)).toEqual(Array.from(state.get('encoder.0.weight')!.data));
    expect(Array.from(other.get('encoder.0.weight')!.data)).not.toEqual(Array.from(state.get('encoder.0.weight')!.data));
  });

  it('is affine without activations (the canonical AE)', async () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', 6, 3), { seed: 1 });
    const a = randomArray(6, 7), b = randomArray(6, 8), zero = new Float32Array(6);
    const f = async (v: Float32Array) => m.forward(engine.tensor(v, [1, 6])).data();
    const [fa, fb, f0, fab] = [await f(a), await f(b), await f(zero), await f(a.map((v, i) => v + b[i]!))];
    for (let i = 0; i < 6; i++) expect(fab[i]! - fb[i]!).toBeCloseTo(fa[i]! - f0[i]!, 5);
  });

  it('encodes in chunks to the same codes as in one pass', async () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', 5, 2), { seed: 2 });
    const n = 23, x = randomArray(n * 5, 9);
    const whole = await encodePixels(m, x, n);
    const seen: number[] = [];
    const chunked = await encodePixels(m, x, n, { chunk: 7, onProgress: (done) => seen.push(done) });
    expect(Array.from(chunked)).toEqual(Array.from(whole));
    expect(seen).toEqual([7, 14, 21, 23]);
    await expect(encodePixels(m, x, n + 1)).rejects.toThrow(/data holds 115 values, not n × bands = 24 × 5/);
  });
});
