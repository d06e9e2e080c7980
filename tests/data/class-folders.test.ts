import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClassFolders } from '../../src/data/class-folders.js';

let root: string;
const png = (rgb: [number, number, number]): Promise<Buffer> =>
  sharp({ create: { width: 12, height: 10, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'inflow-class-folders-'));
  const make = async (dir: string, files: Record<string, Buffer | string>): Promise<void> => {
    mkdirSync(join(root, dir), { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(root, dir, name), content);
  };
  await make('good/pure', { 'a.png': await png([200, 150, 30]), 'b.png': await png([210, 160, 40]) });
  await make('good/broken', { 'c.png': await png([10, 20, 30]) });
  await make('good/.hidden', {});
  await make('empty/pure', { 'a.png': await png([1, 2, 3]) });
  await make('empty/silkcut', { 'notes.txt': 'no images here' });
  await make('corrupt/pure', { 'a.png': await png([1, 2, 3]), 'bad.png': 'not a png at all' });
  await make('none', { 'x.png': await png([1, 2, 3]) });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadClassFolders', () => {
  it('labels each image by its folder, classes sorted by name or in the order asked', async () => {
    const all = await loadClassFolders(join(root, 'good'), { shape: [3, 8, 8] });
    expect(all.classNames).toEqual(['broken', 'pure']);
    expect(all.data.count).toBe(3);
    expect([...all.data.labels]).toEqual([0, 1, 1]);
    expect(all.data.shape).toEqual([3, 8, 8]);
    // The broken image is dark, the pure ones orange: the pixels follow the labels.
    expect(all.data.images[0]).toBeLessThan(30);
    expect(all.data.images[3 * 64]).toBeGreaterThan(150);
    const one = await loadClassFolders(join(root, 'good'), { shape: [3, 8, 8], classes: ['pure'] });
    expect(one.classNames).toEqual(['pure']);
    expect([...one.data.labels]).toEqual([0, 0]);
  });

  it('skips an unreadable image with a warning, or stops on it', async () => {
    const warnings: string[] = [];
    const got = await loadClassFolders(join(root, 'corrupt'), { shape: [3, 8, 8], warn: (m) => warnings.push(m) });
    expect(got.data.count).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/bad\.png: cannot read image/);
    await expect(loadClassFolders(join(root, 'corrupt'), { shape: [3, 8, 8], onCorrupt: 'stop' })).rejects.toThrow(/^class "pure": .*bad\.png: cannot read image/);
  });

  it('names a class folder with no images, an unknown class and a root without class folders', async () => {
    await expect(loadClassFolders(join(root, 'empty'), { shape: [3, 8, 8] })).rejects.toThrow(/^class "silkcut": .*silkcut: no \.png, \.jpg, \.jpeg or \.webp images in this folder$/);
    await expect(loadClassFolders(join(root, 'good'), { shape: [3, 8, 8], classes: ['pure', 'silkcut'] }))
      .rejects.toThrow(/good: unknown class "silkcut" \(the class folders are broken, pure\)$/);
    await expect(loadClassFolders(join(root, 'none'), { shape: [3, 8, 8] })).rejects.toThrow(/none: no class folders in it/);
    await expect(loadClassFolders(join(root, 'missing'), { shape: [3, 8, 8] })).rejects.toThrow(/missing: cannot read this folder of class folders/);
    await expect(loadClassFolders(join(root, 'good'), { shape: [3, 8, 8], classes: ['pure', 'pure'] })).rejects.toThrow(/a class is listed twice/);
  });
});
