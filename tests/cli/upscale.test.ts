import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { loadDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { upscale } from '../../src/models/diffusion/pipelines.js';
import { openTaskModel, readImageFile } from '../../src/cli/task-images.js';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { inProcess, pixelConfig, readPng, RESTORE, SR, writeImage, writeModels } from './image-task-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-upscale-'));
const run = (...args: string[]) => runCli(dir, args);
const wasm = ['--backend', 'wasm', '--threads', '1'];

beforeAll(async () => {
  await writeModels(dir, { 'sr.safetensors': pixelConfig(SR), 'latent-sr.safetensors': 'latent-sr', 'restore.safetensors': pixelConfig(RESTORE) });
  await writeImage(join(dir, 'lr.png'), 7, 7, (x, y) => (x * 37 + y * 11) % 256);
  await writeImage(join(dir, 'lr-rgb.png'), 7, 7, (x, y, c) => (x * 37 + y * 11 + 60 * c) % 256, 3);
  await writeImage(join(dir, 'hr.png'), 28, 28, (x, y) => (x * 9 + y) % 256);
  writeFileSync(join(dir, 'notes.png'), 'not an image');
  mkdirSync(join(dir, 'folder.png'));
});

describe('inflow upscale', () => {
  it("writes the model's 28×28 image with progress over the steps: the library's result for that seed", async () => {
    const r = run('upscale', 'lr.png', '--model', 'sr.safetensors', '--steps', '2', '--seed', '3', '--out', 'out/up.png', ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^7×7 → 28×28 \(×4, ddim 2 steps, eta 0; seed 3\) in [\d.]+ s on wasm → out\/up.png\n$/);
    expect(r.stderr).toMatch(/upscale 2\/2/);
    const png = await readPng(join(dir, 'out/up.png'));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const model = loadDiffusionModel(join(dir, 'sr.safetensors'), { engine });
    const lib = await upscale(model, await readImageFile(join(dir, 'lr.png')), { steps: 2, seed: 3 });
    expect(Array.from(png.data)).toEqual(Array.from(lib.data, (v) => Math.round(v)));
    const other = await upscale(model, await readImageFile(join(dir, 'lr.png')), { steps: 2, seed: 4 });
    expect(Array.from(png.data)).not.toEqual(Array.from(other.data, (v) => Math.round(v)));
    model.dispose();
    engine.dispose();
  });

  it('a latent model decodes to its image size; a colour image goes to a grey model as its luma; --out defaults beside the input', async () => {
    const r = run('upscale', 'lr-rgb.png', '--model', 'latent-sr.safetensors', '--scale', '4', ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/7×7 → 28×28 \(×4, ddim 3 steps, eta 0; seed 0\) .* → lr-rgb-upscaled.png/);
    const png = await readPng(join(dir, 'lr-rgb-upscaled.png'));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
  });

  it('bad input is one line and exit 2 (wrong size and --steps 0 as real processes)', async () => {
    expectOneLine(run('upscale', 'hr.png', '--model', 'sr.safetensors', ...wasm), /^inflow: upscale: the image is 28×28 pixels; this ×4 model takes 7×7 images and makes 28×28$/);
    expectOneLine(run('upscale', 'lr.png', '--model', 'sr.safetensors', '--steps', '0'), /^inflow: option '--steps <n>' argument '0' is invalid. expected a positive integer, got '0'$/);
    const at = (f: string) => join(dir, f);
    const up = (...args: string[]) => inProcess('upscale', ...args);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--steps', '-2'), /expected a positive integer, got '-2'/);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--steps', '26', ...wasm), /^inflow: upscale: steps = 26 must be an integer from 1 to 25/);
    expectOneLine(await up(at('lr.png'), '--model', at('restore.safetensors'), ...wasm), /^inflow: \S*restore.safetensors is a restoration model; upscale takes a super-resolution model \(--model\)$/);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--scale', '2', ...wasm), /^inflow: --scale 2: \S*sr.safetensors enlarges ×4$/);
    expectOneLine(await up(at('lr.png'), '--model', at('nope.safetensors'), ...wasm), /nope.safetensors: model file not found/);
    expectOneLine(await up(at('missing.png'), '--model', at('sr.safetensors')), /^inflow: \S*missing.png: cannot read this image \(.*ENOENT/);
    expectOneLine(await up(at('notes.png'), '--model', at('sr.safetensors')), /^inflow: \S*notes.png: not a readable PNG, JPEG or WebP image$/);
    expectOneLine(await up(at('folder.png'), '--model', at('sr.safetensors')), /^inflow: \S*folder.png: is a folder, not an image file$/);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--out', at('folder.png')), /^inflow: --out \S*folder.png: is a folder; give a file name to write$/);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--seed', 'x'), /argument 'x' is invalid. expected an integer/);
    expectOneLine(await up(at('lr.png'), '--model', at('sr.safetensors'), '--guidance', '2', ...wasm), /^inflow: upscale: guidance was given but the model is not class-conditional$/);
  }, 60_000);

  it('without --model uses the bundled models/sr-mnist.safetensors', async () => {
    const r = run('upscale', 'lr.png', '--steps', '2', '--out', 'bundled.png', ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^7×7 → 28×28 \(×4, ddpm 2 steps; seed 0\) in [\d.]+ s on wasm → bundled.png\n$/);
    const png = await readPng(join(dir, 'bundled.png'));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
  });

  it('a bundled model missing from the installation is one line saying which --model to pass', async () => {
    await expect(openTaskModel(undefined, join(dir, 'models/sr-mnist.safetensors'), 'a super-resolution model', () => createEngine({ backend: 'reference' })))
      .rejects.toThrow(/^no --model given and the bundled models\/sr-mnist.safetensors is not in this installation: pass --model <file>, a super-resolution model$/);
  });

  it('--help says what the image must be and what the defaults are', async () => {
    const r = await inProcess('upscale', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/7×7 for the bundled 28×28 ×4 MNIST model/);
    expect(r.stdout).toMatch(/--steps <n>/);
    expect(r.stdout).toMatch(/models\/sr-mnist.safetensors/);
  });
});
