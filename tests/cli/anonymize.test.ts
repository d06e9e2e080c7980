import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLine, runCli, runCliInProcess as inProcess } from '../helpers/cli.js';
import { pngHeader } from '../data/png-header.js';
import { faceApiSample } from '../helpers/face-api-oracle.js';
import { pasteScenes } from '../../src/models/plates/pasted-scenes.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-anonymize-'));
const at = (...p: string[]) => join(dir, ...p);
const wasm = ['--backend', 'wasm', '--threads', '1'];

/** Decoded RGB bytes of an image file. */
async function pixels(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

beforeAll(async () => {
  // Demo photos scaled down (the detector finds the same faces at 640 px: docs/anonymize.md §4), as JPEG and PNG.
  await sharp(faceApiSample(3)).resize({ width: 640 }).jpeg({ quality: 90 }).toFile(at('people.jpg'));
  await sharp(faceApiSample(2)).resize({ width: 480 }).png().toFile(at('person.png'));
  const g = Buffer.alloc(200 * 120 * 3);
  for (let p = 0; p < 200 * 120; p++) { g[p * 3] = p % 200; g[p * 3 + 1] = 60; g[p * 3 + 2] = (p / 200) | 0; }
  await sharp(g, { raw: { width: 200, height: 120, channels: 3 } }).png().toFile(at('empty.png'));
  const jpeg = readFileSync(at('people.jpg'));
  writeFileSync(at('truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  writeFileSync(at('huge.png'), pngHeader(50_000, 50_000));
  writeFileSync(at('zero.png'), pngHeader(0, 0));
  writeFileSync(at('text.jpg'), 'not an image\n');
  await sharp(g, { raw: { width: 200, height: 120, channels: 3 } }).gif().toFile(at('anim.gif'));
  mkdirSync(at('album'));
  for (const f of ['people.jpg', 'person.png', 'empty.png']) writeFileSync(at('album', f), readFileSync(at(f)));
  // Held-out synthetic plate scenes pasted into a grey 800 × 450 image (tests/anonymize/plates.test.ts finds all 5 plates of this one).
  const plates = pasteScenes({ width: 800, height: 450, data: new Uint8Array(800 * 450 * 3).fill(120), channels: 3 }, { first: 0, count: 8, minSide: 150, maxSide: 300, seed: 2 });
  await sharp(plates.image.data, { raw: { width: 800, height: 450, channels: 3 } }).png().toFile(at('plates.png'));
  mkdirSync(at('cars'));
  for (const f of ['plates.png', 'empty.png']) writeFileSync(at('cars', f), readFileSync(at(f)));
  mkdirSync(at('bad-album'));
  writeFileSync(at('bad-album', 'a.png'), readFileSync(at('person.png')));
  writeFileSync(at('bad-album', 'b.jpg'), readFileSync(at('truncated.jpg')));
});

describe('inflow anonymize', () => {
  it('one photo (a real process): faces hidden, every pixel outside the mask kept, mask and report written', async () => {
    const r = runCli(dir, ['anonymize', 'people.jpg', '--out', 'people.png', '--mask-out', 'mask.png', '--report', 'boxes.json', '--mode', 'pixelate', ...wasm]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 faces hidden \(pixelate\) in people\.jpg, 640×450 → people\.png in [\d.]+ s on wasm\n$/);
    const input = await pixels(at('people.jpg')), output = await pixels(at('people.png')), mask = await sharp(at('mask.png')).grayscale().raw().toBuffer();
    expect([output.width, output.height, mask.length, (await sharp(at('mask.png')).metadata()).channels]).toEqual([640, 450, 640 * 450, 1]);
    let outside = 0, inside = 0, filled = 0;
    for (let p = 0; p < mask.length; p++)
      for (let c = 0; c < 3; c++) {
        const d = input.data[p * 3 + c] !== output.data[p * 3 + c];
        if (mask[p] === 255) { filled++; inside += +d; } else { expect(mask[p]).toBe(0); outside += +d; }
      }
    expect(outside).toBe(0);
    expect(inside / filled).toBeGreaterThan(0.5);
    const report = JSON.parse(readFileSync(at('boxes.json'), 'utf8'));
    expect(report).toMatchObject({ mode: 'pixelate', threshold: 0.5, shrink: 0.1, dilate: 0, faces: 3 });
    expect(report.images[0]).toMatchObject({ input: 'people.jpg', output: 'people.png', mask: 'mask.png', width: 640, height: 450, faces: 3 });
    // The mask is the union of the reported rectangles.
    let area = 0;
    for (const g of report.images[0].regions) area += (g.x1 - g.x0) * (g.y1 - g.y0);
    expect(filled / 3).toBe(area);
  });

  it('--mode inpaint without --model fills with the bundled colour inpainter; every pixel outside the mask kept', async () => {
    const r = runCli(dir, ['anonymize', 'people.jpg', '--out', 'inpainted.png', '--mask-out', 'inpaint-mask.png', '--mode', 'inpaint', '--steps', '10', ...wasm]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 faces hidden \(inpaint\) in people\.jpg, 640×450 → inpainted\.png/);
    const input = await pixels(at('people.jpg')), output = await pixels(at('inpainted.png')), mask = await sharp(at('inpaint-mask.png')).grayscale().raw().toBuffer();
    let outside = 0, inside = 0, filled = 0;
    for (let p = 0; p < mask.length; p++)
      for (let c = 0; c < 3; c++) {
        const d = input.data[p * 3 + c] !== output.data[p * 3 + c];
        if (mask[p] === 255) { filled++; inside += +d; } else outside += +d;
      }
    expect(outside).toBe(0);
    expect(inside / filled).toBeGreaterThan(0.5);
  }, 60_000);

  it('no faces: written unchanged (exit 0, the report says 0); default names beside the input keep the format', async () => {
    const r = await inProcess('anonymize', at('empty.png'), '--report', at('empty.json'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^0 faces above 0\.5 in \S*empty\.png: written unchanged → \S*empty-anonymized\.png in/);
    expect((await pixels(at('empty-anonymized.png'))).data).toEqual((await pixels(at('empty.png'))).data);
    expect(JSON.parse(readFileSync(at('empty.json'), 'utf8'))).toMatchObject({ faces: 0, images: [{ faces: 0, boxes: [], regions: [] }] });
    const j = await inProcess('anonymize', at('person.png'), '--mode', 'solid', '--color', '255,0,0', '--dilate', '2', ...wasm);
    expect(j.code, j.stderr).toBe(0);
    expect(j.stdout).toMatch(/^1 face hidden \(solid\)/);
    expect(existsSync(at('person-anonymized.png'))).toBe(true);
  });

  it('a folder: a new folder of outputs with the same names, inputs untouched', async () => {
    const before = readdirSync(at('album')).map((f) => readFileSync(at('album', f)));
    const r = await inProcess('anonymize', at('album'), '--mode', 'blur', '--mask-out', at('album-masks'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^4 faces hidden \(blur\) in 3 photos \(1 without faces\) → \S*album-anonymized in/);
    expect(readdirSync(at('album-anonymized')).sort()).toEqual(['empty.png', 'people.jpg', 'person.png']);
    expect(readdirSync(at('album-masks')).sort()).toEqual(['empty-mask.png', 'people-mask.png', 'person-mask.png']);
    expect(readdirSync(at('album')).map((f) => readFileSync(at('album', f)))).toEqual(before);
    // Again into the same (now full) folder: refused, nothing touched.
    expectOneLine(await inProcess('anonymize', at('album'), ...wasm), /^inflow: --out \S*album-anonymized: the folder is not empty; name a new or empty folder/);
  });

  it('--plates --no-faces: licence plates only, every pixel outside the mask kept, the report lists them as plates', async () => {
    const r = await inProcess('anonymize', at('plates.png'), '--plates', '--no-faces', '--out', at('plates-out.png'), '--report', at('plates.json'), '--mode', 'solid', ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ plates? hidden \(solid\) in \S*plates\.png, 800×450 → \S*plates-out\.png in [\d.]+ s on wasm\n$/);
    const report = JSON.parse(readFileSync(at('plates.json'), 'utf8'));
    expect(report).toMatchObject({ mode: 'solid', plateThreshold: 0.5, plateTiles: 1024, faces: 0 });
    expect(report.threshold).toBeUndefined();
    const img = report.images[0];
    expect(img.plates).toBeGreaterThanOrEqual(4);
    expect(report.plates).toBe(img.plates);
    expect(img.detections).toHaveLength(img.plates);
    for (const d of img.detections) {
      expect(d.kind).toBe('plate');
      expect(d.score).toBeGreaterThan(0.5);
      expect(d.rect.x1).toBeGreaterThan(d.rect.x0);
    }
    const input = await pixels(at('plates.png')), output = await pixels(at('plates-out.png'));
    const inside = new Uint8Array(800 * 450);
    for (const g of img.regions) for (let y = g.y0; y < g.y1; y++) inside.fill(1, y * 800 + g.x0, y * 800 + g.x1);
    let outside = 0, black = 0, filled = 0;
    for (let p = 0; p < inside.length; p++) {
      if (inside[p]) { filled++; black += +(output.data[p * 3] === 0 && output.data[p * 3 + 1] === 0 && output.data[p * 3 + 2] === 0); }
      else for (let c = 0; c < 3; c++) outside += +(input.data[p * 3 + c] !== output.data[p * 3 + c]);
    }
    expect(outside).toBe(0);
    expect(black).toBe(filled);
    expect(filled).toBeGreaterThan(1000);
  }, 60_000);

  it('--plates with faces: both kinds in the report; a folder counts plates and photos without any', async () => {
    const r = await inProcess('anonymize', at('people.jpg'), '--plates', '--out', at('people-plates.png'), '--report', at('people-plates.json'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^3 faces and \d+ plates? hidden \(telea\) in /);
    const report = JSON.parse(readFileSync(at('people-plates.json'), 'utf8'));
    expect(report).toMatchObject({ threshold: 0.5, plateThreshold: 0.5, faces: 3 });
    expect(report.images[0].detections.filter((d: { kind: string }) => d.kind === 'face')).toHaveLength(3);
    expect(report.images[0].detections.slice(0, 3).map((d: { kind: string }) => d.kind)).toEqual(['face', 'face', 'face']);
    const f = await inProcess('anonymize', at('cars'), '--plates', '--no-faces', '--mode', 'blur', ...wasm);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^\d+ plates hidden \(blur\) in 2 photos \(1 without plates\) → \S*cars-anonymized in/);
    expect(readdirSync(at('cars-anonymized')).sort()).toEqual(['empty.png', 'plates.png']);
  }, 60_000);

  it('--verify: each face\'s recognition distance in the report, and a line on stderr saying whether any face still matches', async () => {
    const r = await inProcess('anonymize', at('people.jpg'), '--mode', 'solid', '--verify', '--report', at('verify.json'), '--out', at('verified.png'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(at('verify.json'), 'utf8'));
    const faces = report.images[0].detections;
    expect(faces).toHaveLength(3);
    for (const d of faces) expect([typeof d.distance, d.fills]).toEqual(['number', 1]);
    const matching = faces.filter((d: { distance: number }) => d.distance <= 0.6).length;
    expect(report.verify).toEqual({ samePersonDistance: 0.6, stillMatching: matching });
    // Measured: solid black moves all three faces of this photo past 0.64 (tests/anonymize/anonymize.test.ts).
    expect(matching).toBe(0);
    expect(r.stderr).toMatch(/^verified: no hidden face matches its original for face-api's recogniser \(every distance > 0\.6\)\n$/);
    const same = await inProcess('anonymize', at('people.jpg'), '--mode', 'blur', '--blur', '0.01', '--verify', '--out', at('barely.png'), ...wasm);
    expect(same.code, same.stderr).toBe(0);
    // A 1-pixel blur changes a face too little: all three still match, each named with its distance.
    expect(same.stderr).toMatch(/^warning: 3 faces still match their original for face-api's recogniser \(distance ≤ 0\.6\): (\S*people\.jpg face [123] \(distance 0\.\d{3}\)(, |\n$)){3}/);
  }, 60_000);

  it('bad input: one line, exit 2, nothing written', async () => {
    const ip = (...a: string[]) => inProcess('anonymize', ...a, ...wasm);
    expectOneLine(await ip(at('truncated.jpg'), '--out', at('t.png')), /^inflow: \S*truncated\.jpg: the JPEG image is corrupt or truncated$/);
    expectOneLine(await ip(at('huge.png'), '--out', at('h.png')), /^inflow: \S*huge\.png: 50000×50000 pixels is over the 50000000 pixels an input image may have$/);
    expectOneLine(await ip(at('zero.png'), '--out', at('z.png')), /^inflow: \S*zero\.png: not a readable PNG, JPEG or WebP image$/);
    expectOneLine(await ip(at('text.jpg'), '--out', at('x.png')), /^inflow: \S*text\.jpg: not a readable PNG, JPEG or WebP image$/);
    expectOneLine(await ip(at('anim.gif'), '--out', at('g.png')), /^inflow: \S*anim\.gif: the file is gif, not PNG, JPEG or WebP$/);
    expectOneLine(await ip(at('missing.jpg')), /^inflow: \S*missing\.jpg: cannot read this image/);
    expectOneLine(await ip(at('people.jpg'), '--weights', at('no-such-folder')), /no-such-folder/);
    expectOneLine(await ip(at('people.jpg'), '--out', at('people.jpg')), /^inflow: \S*people\.jpg: is an input; anonymize never overwrites its inputs$/);
    expectOneLine(await ip(at('people.jpg'), '--out', at('p.gif')), /^inflow: --out \S*p\.gif: name a \.png, \.jpg, \.jpeg or \.webp file/);
    expectOneLine(await ip(at('bad-album')), /^inflow: \S*b\.jpg: the JPEG image is corrupt or truncated$/);
    expectOneLine(await ip(at('album'), '--out', at('album')), /^inflow: --out \S*album: the folder is not empty/);
    expectOneLine(await ip(at('people.jpg'), '--mode', 'inpaint', '--model', at('no-such-model.safetensors')), /no-such-model\.safetensors/);
    expectOneLine(await ip(at('people.jpg'), '--mode', 'pixelate', '--blur', '0.3'), /^inflow: --blur applies to --mode blur only \(the mode is pixelate\)$/);
    expectOneLine(await ip(at('people.jpg'), '--threshold', '1.5'), /^inflow: --threshold 1.5: must be between 0 and 1/);
    expectOneLine(await ip(at('people.jpg'), '--shrink', '0.5'), /^inflow: --shrink 0.5: must be from 0 up to/);
    expectOneLine(await ip(at('people.jpg'), '--color', '1,2'), /^inflow: option '--color <r,g,b>' argument '1,2' is invalid/);
    expectOneLine(await ip(at('people.jpg'), '--detector', 'ssd', '--input-size', '320'), /^inflow: --input-size applies to --detector tiny; SSD-MobileNetV1 always looks at 512 × 512$/);
    expectOneLine(await ip(at('people.jpg'), '--detector', 'yolo'), /^inflow: option '--detector <name>' argument 'yolo' is invalid/);
    expectOneLine(await ip(at('people.jpg'), '--mode', 'smear'), /^inflow: option '--mode <mode>' argument 'smear' is invalid/);
    expectOneLine(await ip(at('people.jpg'), at('album')), /^inflow: \S*album: is a folder; give one folder, or image files$/);
    expectOneLine(await ip(at('huge.png'), '--plates', '--no-faces', '--out', at('hp.png')), /^inflow: \S*huge\.png: 50000×50000 pixels is over the 50000000 pixels an input image may have$/);
    expectOneLine(await ip(at('truncated.jpg'), '--plates', '--out', at('tp.png')), /^inflow: \S*truncated\.jpg: the JPEG image is corrupt or truncated$/);
    expectOneLine(await ip(at('people.jpg'), '--no-faces', '--out', at('nf.png')), /^inflow: --no-faces leaves nothing to hide: add --plates/);
    expectOneLine(await ip(at('people.jpg'), '--plates', '--no-faces', '--threshold', '0.3', '--out', at('nf.png')), /^inflow: --threshold applies to faces, but --no-faces was given$/);
    expectOneLine(await ip(at('people.jpg'), '--plate-threshold', '0.3', '--out', at('nf.png')), /^inflow: --plate-threshold applies to licence plates: add --plates$/);
    expectOneLine(await ip(at('people.jpg'), '--plates', '--plate-threshold', '1', '--out', at('nf.png')), /^inflow: --plate-threshold 1: must be between 0 and 1/);
    expectOneLine(await ip(at('people.jpg'), '--plates', '--plate-model', at('no-such.safetensors'), '--out', at('nf.png')), /no-such\.safetensors/);
    expectOneLine(await ip(at('people.jpg'), '--plates', '--plate-model', at('people.jpg'), '--out', at('nf.png')), /people\.jpg/);
    expectOneLine(await ip(at('people.jpg'), '--mode', 'inpaint', '--tries', '2', '--out', at('nf.png')), /^inflow: --tries needs --verify: a face is filled again only when/);
    expectOneLine(await ip(at('people.jpg'), '--verify', '--tries', '2', '--out', at('nf.png')), /^inflow: --tries applies to --mode inpaint only \(the mode is telea\)$/);
    expectOneLine(await ip(at('people.jpg'), '--mode', 'inpaint', '--verify', '--tries', '17', '--out', at('nf.png')), /^inflow: --tries 17: must be at most 16$/);
    expectOneLine(await ip(at('plates.png'), '--plates', '--no-faces', '--verify', '--out', at('nf.png')), /^inflow: --verify checks faces, but --no-faces was given$/);
    for (const f of ['t.png', 'h.png', 'z.png', 'x.png', 'g.png', 'hp.png', 'tp.png', 'nf.png', 'missing-anonymized.jpg', 'people-anonymized.jpg', 'bad-album-anonymized', 'p.gif'])
      expect(existsSync(at(f)), f).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--help lists every option', async () => {
    const r = await inProcess('anonymize', '--help');
    for (const flag of ['--out', '--faces', '--no-faces', '--plates', '--plate-model', '--plate-threshold', '--plate-tiles', '--mode', '--report', '--mask-out', '--detector', '--weights', '--threshold', '--input-size', '--shrink', '--dilate',
      '--blur', '--blocks', '--color', '--radius', '--model', '--steps', '--seed', '--jump-length', '--resample', '--verify', '--tries', '--backend', '--threads', '--memory-budget'])
      expect(r.stdout, flag).toContain(flag);
    expect(r.stdout).toMatch(/Licence plates \(--plates; --plates --no-faces for plates only\)/);
  });
});
