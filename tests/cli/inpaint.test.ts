import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { INPAINT, inProcess, pixelConfig, readPng, SR, writeImage, writeModels } from './image-task-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-inpaint-'));
const at = (f: string) => join(dir, f);
const wasm = ['--backend', 'wasm', '--threads', '1'];
/** The mask's white rectangle: columns 8…19, rows 4…15. */
const inHole = (x: number, y: number) => x >= 8 && x < 20 && y >= 4 && y < 16;

beforeAll(async () => {
  await writeModels(dir, {
    'inpaint.safetensors': pixelConfig(INPAINT), 'gen.safetensors': pixelConfig(undefined, 3), 'uncond.safetensors': pixelConfig(),
    'sr.safetensors': pixelConfig(SR), 'latent-sr.safetensors': 'latent-sr',
  });
  await writeImage(at('digit.png'), 28, 28, (x, y) => (Math.abs(x - 14) < 3 || Math.abs(y - 14) < 3 ? 230 : (x * 7 + y * 3) % 30));
  await writeImage(at('digit-rgb.png'), 28, 28, (x, y, c) => (Math.abs(x - 14) < 3 ? 200 : 20 + 10 * c), 3);
  await writeImage(at('mask.png'), 28, 28, (x, y) => (inHole(x, y) ? 255 : 0));
  await writeImage(at('mask-rgb.png'), 28, 28, (x, y) => (inHole(x, y) ? 255 : 0), 3);
  await writeImage(at('mask-small.png'), 14, 14, () => 255);
  await writeImage(at('black.png'), 28, 28, () => 0);
});

/** Output pixels that differ from the input outside the hole, and the largest change inside it. */
async function compare(input: string, output: string): Promise<{ knownChanged: number; holeChange: number; size: number[] }> {
  const a = await readPng(at(input)), b = await readPng(at(output));
  let knownChanged = 0, holeChange = 0;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const d = Math.abs(a.data[y * 28 + x]! - b.data[y * 28 + x]!);
      if (inHole(x, y)) holeChange = Math.max(holeChange, d);
      else if (d) knownChanged++;
    }
  return { knownChanged, holeChange, size: [b.width, b.height, b.channels] };
}

describe('inflow inpaint', () => {
  it('RePaint with a generation model (a real process): the known pixels unchanged, the hole filled, progress over the denoiser calls', async () => {
    const r = runCli(dir, ['inpaint', 'digit.png', '--mask', 'mask.png', '--model', 'uncond.safetensors', '--steps', '3', '--jump-length', '1', '--resample', '2', '--seed', '1', '--out', 'repaint.png', ...wasm]);
    expect(r.code, r.stderr).toBe(0);
    // 3 + (2 − 1) · 1 · ⌊2/1⌋ = 5 denoiser calls; the hole is 12 × 12 of 28 × 28.
    expect(r.stdout).toMatch(/^filled 18\.4 % of 28×28 \(RePaint, ddpm 3 steps, jump length 1, resample 2: 5 denoiser calls; seed 1\) in [\d.]+ s on wasm → repaint.png\n$/);
    expect(r.stderr).toMatch(/inpaint 5\/5/);
    const c = await compare('digit.png', 'repaint.png');
    expect(c.size).toEqual([28, 28, 1]);
    expect(c.knownChanged).toBe(0);
    expect(c.holeChange).toBeGreaterThan(0);
  });

  it('a mask-conditioned model, a class-conditional one with --label, colour image and mask: known pixels unchanged', async () => {
    const m = await inProcess('inpaint', at('digit.png'), '--mask', at('mask.png'), '--model', at('inpaint.safetensors'), '--steps', '2', '--out', at('cond.png'), ...wasm);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/filled 18\.4 % of 28×28 \(mask-conditioned, ddim 2 steps; seed 0\)/);
    expect(await compare('digit.png', 'cond.png')).toMatchObject({ knownChanged: 0, size: [28, 28, 1] });
    const g = await inProcess('inpaint', at('digit-rgb.png'), '--mask', at('mask-rgb.png'), '--model', at('gen.safetensors'), '--steps', '2', '--resample', '1', '--label', '2', ...wasm);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/RePaint, ddpm 2 steps, jump length 1, resample 1: 2 denoiser calls; seed 0\) .* → \S*digit-rgb-inpainted.png/);
    const grey = await readPng(at('digit-rgb-inpainted.png'));
    expect(grey.channels).toBe(1);
    // Outside the hole: the colour image's luma, rounded.
    expect(grey.data[0]).toBe(Math.round(0.299 * 20 + 0.587 * 30 + 0.114 * 40));
  }, 60_000);

  it('bad input is one line and exit 2', async () => {
    expectOneLine(runCli(dir, ['inpaint', 'digit.png', '--model', 'uncond.safetensors']), /^inflow: required option '--mask <file>' not specified$/);
    expectOneLine(runCli(dir, ['inpaint', 'digit.png', '--mask', 'mask-small.png', '--model', 'uncond.safetensors', ...wasm]), /^inflow: inpaint: the mask is 14×14 pixels, the image 28×28$/);
    const ip = (...args: string[]) => inProcess('inpaint', ...args);
    const base = [at('digit.png'), '--mask', at('mask.png')];
    expectOneLine(await ip(...base, '--model', at('uncond.safetensors'), '--steps', '0'), /^inflow: option '--steps <n>' argument '0' is invalid. expected a positive integer, got '0'$/);
    expectOneLine(await ip(at('mask-small.png'), '--mask', at('mask-small.png'), '--model', at('uncond.safetensors'), ...wasm), /^inflow: inpaint: the image is 14×14 pixels; the model fills 28×28 images$/);
    expectOneLine(await ip(at('digit.png'), '--mask', at('no-mask.png'), '--model', at('uncond.safetensors')), /^inflow: --mask \S*no-mask.png: cannot read this image/);
    expectOneLine(await ip(at('digit.png'), '--mask', at('black.png'), '--model', at('uncond.safetensors'), ...wasm), /^inflow: inpaint: the mask marks no pixel to fill: white \(≥ 128\) is filled and black kept/);
    expectOneLine(await ip(...base, '--model', at('sr.safetensors'), ...wasm), /^inflow: \S*sr.safetensors is a super-resolution model; inpaint takes a mask-conditioned inpainting model or a pixel generation model \(RePaint\)$/);
    expectOneLine(await ip(...base, '--model', at('latent-sr.safetensors'), ...wasm), /latent-sr.safetensors is a latent super-resolution model; inpaint takes/);
    expectOneLine(await ip(...base, '--model', at('inpaint.safetensors'), '--resample', '3', ...wasm), /^inflow: --jump-length and --resample are for RePaint; \S*inpaint.safetensors is trained for inpainting and fills in one pass$/);
    expectOneLine(await ip(...base, '--model', at('uncond.safetensors'), '--steps', '4', '--jump-length', '4', ...wasm), /^inflow: inpaint: jumpLength = 4 must be below steps \(4\) to resample/);
    expectOneLine(await ip(...base, '--model', at('uncond.safetensors'), '--label', '1', ...wasm), /^inflow: inpaint: labels was given but the model is not class-conditional$/);
    expectOneLine(await ip(...base, '--model', at('gen.safetensors'), '--label', '7', '--steps', '2', ...wasm), /label 7 \(image 0\) is not a class of this model \(0…2\)/);
    expectOneLine(await ip(...base, '--model', at('uncond.safetensors'), '--resample', '0'), /argument '0' is invalid. expected a positive integer/);
  }, 60_000);
});
