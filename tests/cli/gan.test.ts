import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassFolders } from '../../src/data/class-folders.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { loadGanGenerator } from '../../src/models/gan/gan-file-node.js';
import { expectOneLine, runCli, runCliInProcess } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-gan-cli-'));
const at = (...p: string[]) => join(dir, ...p);
const run = (...args: string[]) => runCli(dir, args, 120_000);
// A few steps of a tiny network: enough to exercise every part of the command, not to learn.
const tiny = ['--ch', '4', '--z-dim', '8', '--batch', '4', '--backend', 'wasm', '--threads', '1'];
const seeds = ['--data', 'seeds', '--count', '16', ...tiny];

async function png(path: string, rgb: number): Promise<void> {
  writeFileSync(path, await sharp(Buffer.alloc(16 * 16 * 3, rgb), { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer());
}

beforeAll(async () => {
  for (const [cls, shade] of [['red', 200], ['blue', 40]] as const) {
    mkdirSync(at('folders', cls), { recursive: true });
    for (let i = 0; i < 3; i++) await png(at('folders', cls, `${i}.png`), shade + 10 * i);
  }
  mkdirSync(at('empty-class', 'a'), { recursive: true });
  mkdirSync(at('empty-class', 'b'), { recursive: true });
  await png(at('empty-class', 'a', '0.png'), 100);
  mkdirSync(at('broken', 'a'), { recursive: true });
  mkdirSync(at('broken', 'b'), { recursive: true });
  await png(at('broken', 'a', '0.png'), 100);
  writeFileSync(at('broken', 'b', '0.png'), 'not an image\n');
  mkdirSync(at('single', 'a'), { recursive: true });
  await png(at('single', 'a', '0.png'), 100);
  writeFileSync(at('junk.safetensors'), 'not a model file at all\n');
});

describe('inflow gan train → sample', () => {
  it('trains on seeds, writes the EMA generator and a grid, and sample reads the file back', async () => {
    const r = run('gan', 'train', ...seeds, '--max-steps', '2', '--checkpoint-dir', 'ck', '--out', 'g.safetensors');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/32×32 preset, ch 4, 4 classes \(pure, discoloured, broken, silkcut\)/);
    expect(r.stdout).toMatch(/done: 2 steps/);
    expect(readFileSync(at('g.png')).subarray(1, 4).toString()).toBe('PNG');
    // The file is a generator file with the class names, and it builds a 4-class 32×32 generator.
    const bytes = readFileSync(at('g.safetensors'));
    expect(JSON.parse(decodeSafetensors(bytes).metadata['inflow.classNames']!)).toEqual(['pure', 'discoloured', 'broken', 'silkcut']);
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const G = loadGanGenerator(at('g.safetensors'), { engine });
    expect([G.config.classes, G.config.resolution, G.config.ch]).toEqual([4, 32, 4]);
    G.dispose();
    engine.dispose();

    const grid = await runCliInProcess('gan', 'sample', at('g.safetensors'), '--class', 'broken', '--n', '3', '--truncation', '0.5', '--out', at('broken.png'), '--backend', 'wasm', '--threads', '1');
    expect(grid.code, grid.stderr).toBe(0);
    expect(grid.stdout).toMatch(/3 samples \(3 per class: broken; truncation 0.5; seed 0\)/);
    const meta = await sharp(at('broken.png')).metadata();
    // One row of three 32×32 images with 2-pixel gaps, magnified 2×.
    expect([meta.width, meta.height]).toEqual([2 * (3 * 34 + 2), 2 * 36]);

    // A folder of PNGs per class, named by class: readable again as class folders.
    const folder = await runCliInProcess('gan', 'sample', at('g.safetensors'), '--class', 'all', '--n', '2', '--out', at('made'), '--backend', 'wasm', '--threads', '1');
    expect(folder.code, folder.stderr).toBe(0);
    expect(readdirSync(at('made')).sort()).toEqual(['broken', 'discoloured', 'pure', 'silkcut']);
    const back = await loadClassFolders(at('made'), { shape: [3, 32, 32] });
    expect(back.data.count).toBe(8);
    expect(readdirSync(at('made', 'silkcut'))).toEqual(['silkcut-00000.png', 'silkcut-00001.png']);
    // A second run into the same folder would replace those images: refused, and nothing is written.
    const again = await runCliInProcess('gan', 'sample', at('g.safetensors'), '--class', 'silkcut', '--n', '3', '--out', at('made'), '--backend', 'wasm', '--threads', '1');
    expectOneLine(again, /^inflow: --out \S*made: \S*silkcut-00000\.png already exists; sample into a new folder$/);
    expect(readdirSync(at('made', 'silkcut'))).toHaveLength(2);
  }, 120_000);

  it('--resume continues to the same generator as an uninterrupted run', () => {
    const straight = run('gan', 'train', ...seeds, '--max-steps', '3', '--checkpoint-every', '1', '--checkpoint-dir', 'a', '--out', 'a.safetensors');
    expect(straight.code, straight.stderr).toBe(0);
    const first = run('gan', 'train', ...seeds, '--max-steps', '2', '--checkpoint-every', '1', '--checkpoint-dir', 'b', '--out', 'b.safetensors');
    expect(first.code, first.stderr).toBe(0);
    // Only --max-steps is taken from the command line; the rest comes from the checkpoint.
    const resumed = run('gan', 'train', '--resume', '--max-steps', '3', '--checkpoint-dir', 'b', '--out', 'b.safetensors', '--backend', 'wasm', '--threads', '1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming at step 2/);
    expect(resumed.stdout).toMatch(/done: 1 steps/);
    expect(Buffer.compare(readFileSync(at('a.safetensors')), readFileSync(at('b.safetensors')))).toBe(0);
  }, 240_000);

  it('trains on a folder of class folders', () => {
    const r = run('gan', 'train', '--data', 'folders', ...tiny, '--max-steps', '1', '--checkpoint-dir', 'fk', '--out', 'f.safetensors');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 classes \(blue, red\)/);
    expect(r.stdout).toMatch(/6 images in 2 class folders/);
  }, 120_000);
});

describe('inflow gan train on imbalanced MNIST', () => {
  it('takes digits 0-3 at the ratio given, padded to one-channel 32×32', () => {
    const r = run('gan', 'train', '--data', 'mnist-imbalanced', '--ratio', '9:7:6:1', '--count', '23', ...tiny, '--max-steps', '1', '--checkpoint-dir', 'mk', '--out', 'm.safetensors');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imbalanced MNIST digits 0, 1, 2, 3, 9 : 7 : 6 : 1, padded to 32×32/);
  }, 120_000);
});

describe('inflow gan: bad input is one line and exit 2', () => {
  const ip = (...a: string[]) => runCliInProcess('gan', ...a);

  it('a class folder with no images, an unreadable image, a single class', async () => {
    expectOneLine(await ip('train', '--data', at('empty-class'), ...tiny, '--checkpoint-dir', at('x1'), '--out', at('x1.safetensors')),
      /^inflow: class "b": \S*empty-class\/b: no \.png, \.jpg, \.jpeg or \.webp images in this folder$/);
    expectOneLine(await ip('train', '--data', at('broken'), '--on-corrupt', 'stop', ...tiny, '--checkpoint-dir', at('x2'), '--out', at('x2.safetensors')),
      /^inflow: class "b": \S*broken\/b\/0\.png: cannot read image/);
    // Skipping (the default) warns about each unreadable image, then stops when a class has none left.
    const skipped = await ip('train', '--data', at('broken'), ...tiny, '--checkpoint-dir', at('x3'), '--out', at('x3.safetensors'));
    expect(skipped.code).toBe(2);
    expect(skipped.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^skipping \S*broken\/b\/0\.png: cannot read image/),
      expect.stringMatching(/^inflow: class "b": \S*broken\/b: none of the 1 images could be read$/),
    ]);
    expectOneLine(await ip('train', '--data', at('single'), ...tiny, '--checkpoint-dir', at('x5'), '--out', at('x5.safetensors')),
      /^inflow: \S*single: one class folder \(a\); a conditional GAN needs at least two classes$/);
    expectOneLine(await ip('train', '--data', at('nowhere'), ...tiny, '--checkpoint-dir', at('x4'), '--out', at('x4.safetensors')),
      /^inflow: \S*nowhere: cannot read this folder of class folders/);
  }, 60_000);

  it('flags that do not fit the data', async () => {
    expectOneLine(await ip('train', '--data', 'seeds', '--ratio', '9:7:6', ...tiny), /^inflow: --ratio 9:7:6: give 4 shares, one per class$/);
    expectOneLine(await ip('train', '--data', 'seeds', '--size', '32', '--preset', '64', ...tiny), /^inflow: --preset 64 does not match the 32×32 images/);
    expectOneLine(await ip('train', '--data', 'seeds', '--size', '48'), /argument '48' is invalid. expected 32 or 64/);
    expectOneLine(await ip('train', '--data', at('folders'), '--ratio', '1:1'), /^inflow: --ratio and --count apply to --data seeds and mnist-imbalanced/);
    expectOneLine(await ip('train', ...seeds, '--batch', '17'), /^inflow: --batch 17 is more than the 16 training images$/);
    expectOneLine(await ip('train', ...seeds, '--lr-d', '0'), /^inflow: --lr-d 0 must be > 0$/);
    expectOneLine(await ip('train', '--resume', '--checkpoint-dir', at('none')), /^inflow: --resume: no checkpoint at/);
  });

  it('an unknown class, a file that is no generator', async () => {
    const g = at('g.safetensors');
    expectOneLine(await ip('sample', g, '--class', '4', '--out', at('u.png')), /^inflow: --class 4: unknown class; \S+ has 4 classes: 0 \(pure\), 1 \(discoloured\), 2 \(broken\), 3 \(silkcut\)$/);
    expectOneLine(await ip('sample', g, '--class', 'chipped', '--out', at('u.png')), /^inflow: --class chipped: unknown class/);
    expectOneLine(await ip('sample', at('junk.safetensors'), '--out', at('u.png')), /^inflow: \S*junk\.safetensors: /);
    // A real model file of another kind: a GAN checkpoint is not a generator file.
    expectOneLine(await ip('sample', at('ck', 'checkpoint.safetensors'), '--out', at('u.png')), /not an inflow GAN generator file/);
    expectOneLine(await ip('sample', at('missing.safetensors'), '--out', at('u.png')), /missing\.safetensors/);
    expectOneLine(await ip('sample', g, '--truncation', '0', '--out', at('u.png')), /truncation = 0 must be a number ≥ 0\.01/);
  });
});
