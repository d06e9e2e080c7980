import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCifar10 } from '../../src/data/cifar10.js';
import { loadImageFolder } from '../../src/data/image-folder.js';
import { InflowError } from '../../src/engine/errors.js';
import { pngHeader } from './png-header.js';

/*
 * Image folders and data files as a careless user or an attacker leaves them (issue 11): a named
 * pipe called *.png (it blocked train/eval forever), a header claiming 16 000 × 16 000 pixels (it
 * was decoded whole: 12.7 s, 220 MB), a folder where a file belongs.
 */

const dir = mkdtempSync(join(tmpdir(), 'inflow-hostile-data-'));
const folder = join(dir, 'images');

beforeAll(async () => {
  mkdirSync(folder);
  for (const [i, r] of [40, 120, 200].entries())
    await sharp({ create: { width: 20, height: 12, channels: 3, background: { r, g: 60, b: 90 } } }).png().toFile(join(folder, `good-${i}.png`));
  expect(spawnSync('mkfifo', [join(folder, 'pipe.png')]).status).toBe(0);
  mkdirSync(join(folder, 'folder.jpg'));
  symlinkSync(join(dir, 'nowhere.png'), join(folder, 'dangling.webp'));
  writeFileSync(join(folder, 'huge.png'), pngHeader(16000, 16000));
  writeFileSync(join(folder, 'drawing.png'), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
});

describe('loadImageFolder', () => {
  it('skips a FIFO, a folder, a dangling link, an oversized header and a non-image, one warning line each naming the file', async () => {
    const warnings: string[] = [];
    const t0 = performance.now();
    const data = await loadImageFolder(folder, { shape: [3, 8, 8], warn: (m) => warnings.push(m) });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(data.count).toBe(3);
    expect(warnings.every((w) => !w.includes('\n'))).toBe(true);
    expect(warnings.sort()).toEqual([
      expect.stringMatching(/^skipping .*dangling\.webp: no such file or folder \(ENOENT\)$/),
      expect.stringMatching(/^skipping .*drawing\.png: cannot read image \(its content is svg, not PNG, JPEG or WebP\)$/),
      expect.stringMatching(/^skipping .*folder\.jpg: it is a folder, not an image file$/),
      expect.stringMatching(/^skipping .*huge\.png: 16000×16000 pixels is over the limit of 50000000 pixels per image, so it is not decoded/),
      expect.stringMatching(/^skipping .*pipe\.png: it is a named pipe \(FIFO\), not an image file$/),
    ]);
  });

  it('with onCorrupt stop, an oversized image stops the load naming the file and its size', async () => {
    const only = join(dir, 'one-huge');
    mkdirSync(only);
    writeFileSync(join(only, 'huge.png'), pngHeader(16000, 16000));
    await expect(loadImageFolder(only, { shape: [3, 8, 8], onCorrupt: 'stop' })).rejects.toThrow(/huge\.png: 16000×16000 pixels is over the limit/);
    // The cap is an option: a small one refuses a 20×12 image too.
    const small = join(dir, 'one-small');
    mkdirSync(small);
    await sharp({ create: { width: 20, height: 12, channels: 3, background: 'red' } }).png().toFile(join(small, 'small.png'));
    await expect(loadImageFolder(small, { shape: [3, 8, 8], onCorrupt: 'stop', maxPixels: 100 }))
      .rejects.toThrow(/small\.png: 20×12 pixels is over the limit of 100 pixels per image/);
  });

  it('a folder of nothing but non-files, a file given as the folder, a missing folder: InflowErrors naming the path', async () => {
    const pipes = join(dir, 'only-pipes');
    mkdirSync(pipes);
    spawnSync('mkfifo', [join(pipes, 'a.png')]);
    await expect(loadImageFolder(pipes, { shape: [3, 8, 8], warn: () => {} })).rejects.toThrow(/only-pipes: none of the 1 entries named like images is a regular file/);
    await expect(loadImageFolder(join(folder, 'good-0.png'), { shape: [3, 8, 8] })).rejects.toThrow(/good-0\.png: is a file, not a folder of images$/);
    const missing = await loadImageFolder(join(dir, 'missing'), { shape: [3, 8, 8] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InflowError);
    expect((missing as Error).message).toMatch(/missing: cannot read this image folder \(no such file or folder \(ENOENT\)\)$/);
  });
});

describe('loadCifar10', () => {
  it('refuses a named pipe or a folder by stat, without opening it, and names the file', () => {
    const fifo = join(dir, 'data_batch_1.bin');
    spawnSync('mkfifo', [fifo]);
    expect(() => loadCifar10([fifo])).toThrow(/data_batch_1\.bin: is a named pipe \(FIFO\), not a CIFAR-10 batch file$/);
    expect(() => loadCifar10([folder])).toThrow(/images: is a folder, not a CIFAR-10 batch file$/);
    expect(() => loadCifar10([join(dir, 'nope.bin')])).toThrow(/nope\.bin: cannot read this CIFAR-10 batch file \(no such file or folder \(ENOENT\)\)$/);
  });
});
