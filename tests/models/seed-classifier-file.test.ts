import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadSeedClassifier, saveSeedClassifier } from '../../src/io/seed-classifier-file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { defaultSeedClassifier, SeedClassifier, type SeedClassifierConfig } from '../../src/models/seed-classifier/index.js';
import { seedClassifierParamShapes } from '../../src/models/seed-classifier/param-shapes.js';

let engine: Engine, dir: string;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  dir = mkdtempSync(join(tmpdir(), 'inflow-seed-classifier-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configs: SeedClassifierConfig[] = [
  { ...defaultSeedClassifier, widths: [4, 8, 8] },
  { ...defaultSeedClassifier, arch: 'resnet', widths: [4, 4, 8], inputShape: [3, 64, 64], classes: 3 },
];

describe('seed-classifier files', () => {
  it.each(configs)('the implied parameters are exactly the built model\'s ($arch)', (config) => {
    const m = new SeedClassifier(engine, config, 1);
    const built = new Map([...m.namedParams()].map(([k, p]) => [k, [...p.shape]]));
    expect(new Map([...seedClassifierParamShapes(config)])).toEqual(built);
    m.dispose();
  });

  it('round-trips weights and config, predictions equal', async () => {
    const m = new SeedClassifier(engine, configs[1]!, 7).eval();
    const path = join(dir, 'm.safetensors');
    await saveSeedClassifier(m, path, { 'inflow.classes': 'pure,broken,silkcut' });
    const { model, metadata } = loadSeedClassifier(path, engine);
    expect(model.config).toEqual(m.config);
    expect(metadata['inflow.classes']).toBe('pure,broken,silkcut');
    const x = engine.tensor(Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => (i * 37) % 256), [2, 3, 64, 64]);
    expect((await model.eval().predict(x)).map((r) => [...r])).toEqual((await m.predict(x)).map((r) => [...r]));
    x.dispose();
    m.dispose();
    model.dispose();
  });

  it('refuses a bad config, a missing or extra tensor, in one line', async () => {
    const m = new SeedClassifier(engine, configs[0]!, 2);
    const path = join(dir, 'ok.safetensors');
    await saveSeedClassifier(m, path);
    const { tensors, metadata } = decodeSafetensors(readFileSync(path));
    const write = (name: string, t: typeof tensors, meta: Record<string, string>): string => {
      const p = join(dir, name);
      writeFileSync(p, encodeSafetensors(t, meta));
      return p;
    };
    const badConfig = write('cfg.safetensors', tensors, { ...metadata, 'inflow.config': JSON.stringify({ ...configs[0], inputShape: [3, 30, 30] }) });
    expect(() => loadSeedClassifier(badConfig, engine)).toThrow(/cfg\.safetensors: config inputShape = \[3, 30, 30\] must have H and W divisible by 8/);
    const dropout = write('drop.safetensors', tensors, { ...metadata, 'inflow.config': JSON.stringify({ ...configs[0], dropout: 1 }) });
    expect(() => loadSeedClassifier(dropout, engine)).toThrow(/config dropout = 1 must be a number in \[0, 1\)/);
    const fewer = new Map(tensors);
    fewer.delete('fc.bias');
    expect(() => loadSeedClassifier(write('few.safetensors', fewer, metadata), engine)).toThrow(/parameters but the file carries .*parameter 'fc.bias' is missing/);
    const more = new Map(tensors).set('extra', { shape: [1], data: new Float32Array(1) });
    expect(() => loadSeedClassifier(write('more.safetensors', more, metadata), engine)).toThrow(/tensor 'extra' is not a parameter/);
    const other = write('other.safetensors', tensors, { ...metadata, 'inflow.format': 'inflow-classifier-1' });
    expect(() => loadSeedClassifier(other, engine)).toThrow(/not an inflow seed-classifier file \(format "inflow-classifier-1"\)/);
    m.dispose();
  });
});
