import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { cincFlow, fincFlow, glow, inverseFlow } from '../../src/models/index.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };
const input = () => engine.tensor(Float32Array.from({ length: 2 * 64 }, (_, i) => (i * 37) % 256 + 0.5), [2, 1, 8, 8]);

describe('model files', () => {
  it.each([['finc', fincFlow], ['cinc', cincFlow], ['inverse', inverseFlow], ['glow', glow]] as const)(
    '%s: save → load → identical outputs and samples', async (_k, build) => {
      const model = build(tiny, { engine, seed: 3 });
      const x = input();
      // Initialise ActNorms from data, then perturb every weight so the file is not the init.
      model.bitsPerDim(x).dispose();
      for (const p of model.parameters()) p.value = engine.tensor((await p.value.data()).map((v, i) => v + 0.01 * Math.sin(i)), p.shape);
      const bytes = await saveModel(model);
      const loaded = await loadModel(bytes, { engine });
      expect(Array.from(await loaded.bitsPerDim(x).data())).toEqual(Array.from(await model.bitsPerDim(x).data()));
      const a = await (await model.sample(2, { seed: 4, temperature: 0.7 })).data();
      const b = await (await loaded.sample(2, { seed: 4, temperature: 0.7 })).data();
      expect(Array.from(b)).toEqual(Array.from(a));
      model.dispose();
      loaded.dispose();
    });

  it('refuses malformed files with a clear error', async () => {
    const model = fincFlow(tiny, { engine, seed: 3 });
    const bytes = await saveModel(model);
    const dir = mkdtempSync(join(tmpdir(), 'inflow-model-'));
    const path = join(dir, 'm.safetensors');
    await saveModel(model, path);
    await expect(loadModel(join(dir, 'missing.safetensors'), { engine })).rejects.toThrow(/missing.safetensors: model file not found/);
    await expect(loadModel(bytes.subarray(0, bytes.length - 100), { engine })).rejects.toThrow(/lies outside the .* data section \(truncated\?\)/);
    const longHeader = bytes.slice();
    new DataView(longHeader.buffer).setBigUint64(0, BigInt(bytes.length), true);
    await expect(loadModel(longHeader, { engine })).rejects.toThrow(/header claims \d+ bytes but the file has only/);
    const { tensors, metadata } = decodeSafetensors(bytes);
    const first = [...tensors.keys()][0]!;
    const reshaped = new Map(tensors);
    const t = tensors.get(first)!;
    reshaped.set(first, { shape: [t.data.length], data: t.data });
    await expect(loadModel(encodeSafetensors(reshaped, metadata), { engine })).rejects.toThrow(new RegExp(`tensor '${first.replace(/\./g, '\\.')}' has shape \\[\\d+\\], the model expects`));
    const extra = new Map(tensors).set('levels.9.mystery.weight', { shape: [2], data: new Float32Array(2) });
    await expect(loadModel(encodeSafetensors(extra, metadata), { engine })).rejects.toThrow(/'levels.9.mystery.weight' is not a parameter .* \(unknown layer\)/);
    const missing = new Map(tensors);
    missing.delete(first);
    await expect(loadModel(encodeSafetensors(missing, metadata), { engine })).rejects.toThrow(/parameter '.*' is missing/);
    const badKind = { ...metadata, 'inflow.config': JSON.stringify({ kind: 'flow-model', model: { kind: 'teleport' } }) };
    await expect(loadModel(encodeSafetensors(tensors, badKind), { engine })).rejects.toThrow(/config model.kind = "teleport" must be one of finc, cinc, inverse, glow, emerging/);
    await expect(loadModel(encodeSafetensors(tensors, {}), { engine })).rejects.toThrow(/not an inflow model file/);
    writeFileSync(path, 'not a model');
    await expect(loadModel(path, { engine })).rejects.toThrow(/header claims|too short/);
    model.dispose();
  });
});
