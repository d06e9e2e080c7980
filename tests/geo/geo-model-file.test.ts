import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { checkModelBands, loadPixelAutoencoder, pixelAutoencoderFromBytes, pixelAutoencoderToBytes, savePixelAutoencoder } from '../../src/geo/geo-model-file.js';
import { encodePixels, PixelAutoencoder, pixelAutoencoderPreset } from '../../src/geo/pixel-autoencoder.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { randomArray } from '../helpers/random.js';

let engine: Engine, dir: string;
beforeAll(async () => {
  engine = await createEngine({ backend: 'reference' });
  dir = await mkdtemp(join(tmpdir(), 'inflow-geo-model-'));
});
afterAll(async () => { engine?.dispose(); await rm(dir, { recursive: true, force: true }); });

/** The file re-encoded with its metadata or tensors changed (fresh checksums, so only the rule under test can refuse it). */
function tamper(bytes: Uint8Array, edit: (meta: Record<string, string>, tensors: Map<string, { shape: number[]; data: Float32Array }>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes, 'x');
  const t = new Map([...tensors].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
  const meta = { ...metadata };
  edit(meta, t);
  return encodeSafetensors(t, meta);
}

describe('pixel autoencoder files', () => {
  it('round-trip the config and weights through bytes and a path', async () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', 10), { seed: 9 });
    const x = randomArray(8 * 10, 4);
    const want = await encodePixels(m, x, 8);
    const path = join(dir, 'sae.safetensors');
    await savePixelAutoencoder(m, path);
    for (const back of [loadPixelAutoencoder(path, { engine }), pixelAutoencoderFromBytes(await pixelAutoencoderToBytes(m), { engine })]) {
      expect(back.config).toEqual(m.config);
      expect(Array.from(await encodePixels(back, x, 8))).toEqual(Array.from(want));
      back.dispose();
    }
    m.dispose();
  });

  it('refuse files that break a rule, naming the file and the problem', async () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('ae', 6, 3), { seed: 1 });
    const bytes = await pixelAutoencoderToBytes(m);
    const load = (b: Uint8Array) => () => pixelAutoencoderFromBytes(b, { engine, name: 'm.safetensors' });
    expect(load(tamper(bytes, (meta) => { meta['inflow.format'] = 'inflow-model-1'; }))).toThrow(/^m\.safetensors: not an inflow pixel autoencoder file \(format "inflow-model-1"\)$/);
    expect(load(tamper(bytes, (meta) => { meta['inflow.config'] = JSON.stringify({ ...m.config, bands: 7 }); })))
      .toThrow(/m\.safetensors: config decoder = .* must end with 7 outputs/);
    expect(load(tamper(bytes, (meta) => { meta['inflow.config'] = JSON.stringify({ ...m.config, extra: 1 }); }))).toThrow(/unknown key 'extra'/);
    const params = m.paramCount(), last = m.config.decoder.length - 1;
    expect(load(tamper(bytes, (_, t) => { t.delete(`decoder.${last}.bias`); })))
      .toThrow(`m.safetensors: the config declares ${params} parameters but the file carries ${params - 6} (parameter 'decoder.${last}.bias' is missing)`);
    expect(load(tamper(bytes, (_, t) => { t.get('encoder.0.weight')!.data[3] = NaN; }))).toThrow(/m\.safetensors: .*encoder\.0\.weight.*NaN/);
    const flipped = bytes.slice(); flipped[flipped.length - 5]! ^= 1;
    expect(load(flipped)).toThrow(/checksum/);
    m.dispose();
  });

  it('name a band count that does not match the raster in one line', () => {
    const m = new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', 9));
    expect(() => checkModelBands(m, 9)).not.toThrow();
    expect(() => checkModelBands(m, 10)).toThrow(/^geomap: the model was trained on 9 bands but the raster has 10 \(select bands to match\)$/);
    m.dispose();
  });
});
