import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGeoTiff } from '../../src/geo/geotiff.js';
import { labelImage, scaledRows } from '../../src/geo/pixels.js';
import { rng } from '../helpers/random.js';

// geotiff's writer only makes single-strip, pixel-interleaved files; tiled and band-separate files
// (what GDAL writes for large rasters) are built here byte by byte, from the TIFF 6.0 layout.

type Tag = [id: number, type: 2 | 3 | 4 | 12, values: number[] | string];
const TYPE_SIZE = { 2: 1, 3: 2, 4: 4, 12: 8 } as const;

/** Tiles: offsets 324, counts 325; strips: offsets 273, counts 279. */
function tiff(tags: Tag[], blobs: Uint8Array[], offsetTag: number, countTag: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = 8;
  const offsets = blobs.map((b) => { const o = pos; parts.push(b); pos += b.length; pos += pos & 1; if (b.length & 1) parts.push(new Uint8Array(1)); return o; });
  const extra: Tag[] = [[offsetTag, 4, offsets], [countTag, 4, blobs.map((b) => b.length)]];
  const all = [...tags, ...extra].sort((a, b) => a[0] - b[0]);
  const encode = ([, type, v]: Tag): Uint8Array => {
    if (typeof v === 'string') return new TextEncoder().encode(`${v}\0`);
    const buf = new DataView(new ArrayBuffer(v.length * TYPE_SIZE[type]));
    v.forEach((x, i) => { if (type === 3) buf.setUint16(i * 2, x, true); else if (type === 4) buf.setUint32(i * 4, x, true); else buf.setFloat64(i * 8, x, true); });
    return new Uint8Array(buf.buffer);
  };
  const values = all.map(encode);
  const outOfLine = values.map((v) => { if (v.length <= 4) return -1; const o = pos; parts.push(v); pos += v.length; if (v.length & 1) { parts.push(new Uint8Array(1)); pos++; } return o; });
  const ifdAt = pos, ifd = new DataView(new ArrayBuffer(2 + 12 * all.length + 4));
  ifd.setUint16(0, all.length, true);
  all.forEach((t, i) => {
    const e = 2 + 12 * i, v = values[i]!;
    ifd.setUint16(e, t[0], true); ifd.setUint16(e + 2, t[1], true);
    ifd.setUint32(e + 4, typeof t[2] === 'string' ? v.length : t[2].length, true);
    if (outOfLine[i]! >= 0) ifd.setUint32(e + 8, outOfLine[i]!, true);
    else v.forEach((b, j) => ifd.setUint8(e + 8 + j, b));
  });
  const head = new DataView(new ArrayBuffer(8));
  head.setUint8(0, 0x49); head.setUint8(1, 0x49); head.setUint16(2, 42, true); head.setUint32(4, ifdAt, true);
  const out = new Uint8Array(pos + ifd.byteLength);
  let at = 0;
  for (const p of [new Uint8Array(head.buffer), ...parts, new Uint8Array(ifd.buffer)]) { out.set(p, at); at += p.length; }
  return out;
}

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'inflow-tiff-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const W = 20, H = 19, B = 3, T = 16;
const values = (() => { const r = rng(12); return Int16Array.from({ length: W * H * B }, () => Math.round(r() * 60000 - 30000)); })();
const base = (spp: number, planar: number): Tag[] => [
  [256, 3, [W]], [257, 3, [H]], [258, 3, new Array(spp).fill(16)], [259, 3, [1]], [262, 3, [1]],
  [277, 3, [spp]], [284, 3, [planar]], [339, 3, new Array(spp).fill(2)], [42113, 2, '-32768'],
];

describe('readGeoTiff on tiled and band-separate layouts', () => {
  it('reads a tiled, band-separate int16 file with a pixel scale and tiepoint', async () => {
    const blobs: Uint8Array[] = [];
    for (let b = 0; b < B; b++)
      for (let ty = 0; ty < H; ty += T)
        for (let tx = 0; tx < W; tx += T) {
          const tile = new DataView(new ArrayBuffer(T * T * 2));
          for (let y = 0; y < T; y++) for (let x = 0; x < T; x++)
            if (ty + y < H && tx + x < W) tile.setInt16((y * T + x) * 2, values[(b * H + ty + y) * W + tx + x]!, true);
          blobs.push(new Uint8Array(tile.buffer));
        }
    const tags: Tag[] = [...base(B, 2), [322, 3, [T]], [323, 3, [T]],
      [33550, 12, [15, 15, 0]], [33922, 12, [2, 3, 0, 700030, 6400045, 0]], [34735, 3, [1, 1, 0, 1, 3072, 0, 1, 28354]]];
    const file = join(dir, 'tiled.tif');
    await writeFile(file, tiff(tags, blobs, 324, 325));
    const r = await readGeoTiff(file);
    expect([r.width, r.height, r.bands, r.sampleType, r.noData]).toEqual([W, H, B, 'int16', -32768]);
    expect(Array.from(r.data)).toEqual(Array.from(values));
    // The tiepoint anchors pixel (2, 3): the corner is 2 pixels west and 3 north of it.
    expect(r.geo.origin).toEqual([700000, 6400090]);
    expect(r.geo.pixelSize).toEqual([15, -15]);
    expect(r.geo.epsg).toBe(28354);
    // Decoded one or two rows at a time (windows cut across tiles): the same values.
    for (const windowValues of [1, 150]) expect(Array.from((await readGeoTiff(file, { windowValues })).data)).toEqual(Array.from(values));
  });

  it('reads a striped, pixel-interleaved file placed by a ModelTransformation', async () => {
    const rowsPerStrip = 4, blobs: Uint8Array[] = [];
    for (let y0 = 0; y0 < H; y0 += rowsPerStrip) {
      const rows = Math.min(rowsPerStrip, H - y0), strip = new DataView(new ArrayBuffer(rows * W * B * 2));
      for (let y = 0; y < rows; y++) for (let x = 0; x < W; x++) for (let b = 0; b < B; b++)
        strip.setInt16(((y * W + x) * B + b) * 2, values[(b * H + y0 + y) * W + x]!, true);
      blobs.push(new Uint8Array(strip.buffer));
    }
    const M = [20, 0, 0, 300000, 0, -20, 0, 5000000, 0, 0, 0, 0, 0, 0, 0, 1];
    const file = join(dir, 'strips.tif');
    await writeFile(file, tiff([...base(B, 1), [278, 3, [rowsPerStrip]], [34264, 12, M], [34735, 3, [1, 1, 0, 1, 2048, 0, 1, 4283]]], blobs, 273, 279));
    const r = await readGeoTiff(file, { bands: [1] });
    expect(Array.from(r.data)).toEqual(Array.from(values.subarray(W * H, 2 * W * H)));
    expect(r.geo.origin).toEqual([300000, 5000000]);
    expect(r.geo.pixelSize).toEqual([20, -20]);
    expect(r.geo.epsg).toBe(4283);
    expect(Array.from((await readGeoTiff(file, { windowValues: 1 })).data)).toEqual(Array.from(values));
  });
});

describe('scaledRows / labelImage', () => {
  it('drops no-data pixels, scales each band to zero mean and unit variance, and maps labels back', () => {
    const plane = 6, data = Float32Array.from([1, 2, 3, 4, -9, 6, 10, 10, 10, 10, -9, 40, 5, 7, 9, 11, 0, NaN]);
    const rows = scaledRows(data, 3, -9);
    expect(Array.from(rows.index)).toEqual([0, 1, 2, 3]); // pixel 4 is no-data, pixel 5 holds a NaN
    for (let b = 0; b < 3; b++) {
      const col = Array.from({ length: rows.n }, (_, i) => rows.x[i * 3 + b]!);
      const mean = col.reduce((a, v) => a + v, 0) / rows.n;
      expect(Math.abs(mean)).toBeLessThan(1e-6);
      if (b !== 1) expect(col.reduce((a, v) => a + v * v, 0) / rows.n).toBeCloseTo(1, 5);
    }
    expect(Array.from({ length: 4 }, (_, i) => rows.x[i * 3 + 1])).toEqual([0, 0, 0, 0]); // a constant band
    const minmax = scaledRows(data, 3, -9, { standardize: false });
    expect(Array.from({ length: 4 }, (_, i) => minmax.x[i * 3])).toEqual([0, 1 / 3, 2 / 3, 1].map(Math.fround));
    expect(Array.from(labelImage([2, 0, 1, 1], rows.index, plane))).toEqual([2, 0, 1, 1, 255, 255]);
    expect(() => labelImage([0], rows.index, plane)).toThrow(/^pixels: 1 labels for 4 rows$/);
    expect(() => scaledRows(Float32Array.from([-9, -9]), 1, -9)).toThrow(/^pixels: every pixel is no-data$/);
  });
});
