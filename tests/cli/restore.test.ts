import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/cli/task-images.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { loadDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { restore } from '../../src/models/diffusion/pipelines.js';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { inProcess, pixelConfig, readPng, RESTORE, SR, writeImage, writeModels } from './image-task-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-restore-'));
const at = (f: string) => join(dir, f);
const wasm = ['--backend', 'wasm', '--threads', '1'];

beforeAll(async () => {
  await writeModels(dir, { 'restore.safetensors': pixelConfig(RESTORE), 'sr.safetensors': pixelConfig(SR), 'gen.safetensors': pixelConfig(undefined, 3) });
  // A digit-like stroke with noise on it.
  await writeImage(at('noisy.png'), 28, 28, (x, y) => Math.min(255, (Math.abs(x - y) < 3 ? 220 : 10) + ((x * 31 + y * 17) % 40)));
  await writeImage(at('small.png'), 7, 7, (x, y) => x * y);
});

describe('inflow restore', () => {
  it("writes the restored 28×28 PNG (a real process, progress on stderr): the library's result for that seed", async () => {
    const r = runCli(dir, ['restore', 'noisy.png', '--model', 'restore.safetensors', '--steps', '2', '--seed', '5', ...wasm]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^28×28 restored \(trained on gaussian-noise; ddim 2 steps, eta 0; seed 5\) in [\d.]+ s on wasm → noisy-restored.png\n$/);
    expect(r.stderr).toMatch(/restore 2\/2/);
    const png = await readPng(at('noisy-restored.png'));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const model = loadDiffusionModel(at('restore.safetensors'), { engine });
    const lib = await restore(model, await readImageFile(at('noisy.png')), { steps: 2, seed: 5 });
    expect(Array.from(png.data)).toEqual(Array.from(lib.data, (v) => Math.round(v)));
    const input = await readPng(at('noisy.png'));
    expect(Array.from(png.data)).not.toEqual(Array.from(input.data));
    model.dispose();
    engine.dispose();
  });

  it('bad input is one line and exit 2', async () => {
    expectOneLine(runCli(dir, ['restore', 'small.png', '--model', 'restore.safetensors', ...wasm]), /^inflow: restore: the image is 7×7 pixels; the model restores 28×28 images$/);
    const rs = (...args: string[]) => inProcess('restore', ...args);
    expectOneLine(await rs(at('noisy.png'), '--model', at('restore.safetensors'), '--steps', '0'), /^inflow: option '--steps <n>' argument '0' is invalid. expected a positive integer, got '0'$/);
    expectOneLine(await rs(at('noisy.png'), '--model', at('sr.safetensors'), ...wasm), /^inflow: \S*sr.safetensors is a super-resolution model; restore takes a restoration model \(--model\)$/);
    expectOneLine(await rs(at('noisy.png'), '--model', at('gen.safetensors'), ...wasm), /^inflow: \S*gen.safetensors is a class-conditional generation model; restore takes a restoration model/);
    expectOneLine(await rs(at('nothing.png'), '--model', at('restore.safetensors')), /^inflow: \S*nothing.png: cannot read this image/);
    expectOneLine(await rs(at('restore.safetensors'), '--model', at('restore.safetensors')), /^inflow: \S*restore.safetensors: not a readable PNG, JPEG or WebP image$/);
    expectOneLine(await rs(at('noisy.png'), '--model', at('restore.safetensors'), '--eta', '3', ...wasm), /^inflow: restore: eta = 3 must be a number from 0 to 1$/);
    expectOneLine(await rs(at('noisy.png'), '--model', at('restore.safetensors'), '--strength', '1'), /unknown option '--strength'/);
  }, 60_000);
});
