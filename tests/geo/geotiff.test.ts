import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeArrayBuffer, type TypedArray } from 'geotiff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL_NODATA, readGeoTiff, writeLabelMap } from '../../src/geo/geotiff.js';
import { rng } from '../helpers/random.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'inflow-geotiff-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const W = 7, H = 5, B = 3;
/** A UTM-zone-54S-like grid: 30 m pixels, top-left corner at (500 000, 6 500 000). */
const GEO = { ModelPixelScale: [30, 30, 0], ModelTiepoint: [0, 0, 0, 500000, 6500000, 0], ProjectedCSTypeGeoKey: 32754, GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1 };

function bandMajor(seed: number, lo: number, hi: number, integer: boolean): Float64Array {
  const r = rng(seed), out = new Float64Array(W * H * B);
  for (let i = 0; i < out.length; i++) { const v = lo + (hi - lo) * r(); out[i] = integer ? Math.round(v) : v; }
  return out;
}

async function writeSource(name: string, values: Float64Array, Ctor: new (n: number) => TypedArray, noData: string): Promise<string> {
  const chunky = new Ctor(values.length);
  for (let b = 0; b < B; b++) for (let p = 0; p < W * H; p++) chunky[p * B + b] = values[b * W * H + p]!;
  const file = join(dir, name);
  // geotiff 3.0.5's writer stores only unsigned and float arrays correctly (signed ones come out as
  // one byte per value), so signed samples go in as their unsigned bit patterns, labelled signed.
  const signed = chunky instanceof Int16Array || chunky instanceof Int32Array;
  const stored = chunky instanceof Int16Array ? new Uint16Array(chunky.buffer) : chunky instanceof Int32Array ? new Uint32Array(chunky.buffer) : chunky;
  const meta = { width: W, height: H, GDAL_NODATA: noData, ...GEO, ...(signed ? { SampleFormat: [2, 2, 2] } : {}) };
  await writeFile(file, new Uint8Array(writeArrayBuffer(stored, meta)));
  return file;
}

describe('readGeoTiff', () => {
  const cases: Array<[string, new (n: number) => TypedArray, number, number, boolean]> = [
    ['uint8', Uint8Array, 0, 255, true], ['uint16', Uint16Array, 0, 65535, true], ['uint32', Uint32Array, 0, 4e9, true],
    ['int16', Int16Array, -32768, 32767, true], ['int32', Int32Array, -2e9, 2e9, true],
    ['float32', Float32Array, -1e3, 1e3, false], ['float64', Float64Array, -1e3, 1e3, false],
  ];
  for (const [type, Ctor, lo, hi, integer] of cases) {
    it(`reads ${type} samples band-major with georeferencing and no-data`, async () => {
      const values = bandMajor(type.length * 13, lo, hi, integer);
      const file = await writeSource(`${type}.tif`, values, Ctor, '-9999');
      const r = await readGeoTiff(file);
      expect([r.width, r.height, r.bands, r.sampleType, r.noData]).toEqual([W, H, B, type, -9999]);
      // Exact after float32 rounding of what the file stored.
      const stored = Float32Array.from(new Ctor(values.length).map((_, i) => values[i]!));
      expect(Array.from(r.data)).toEqual(Array.from(stored));
      expect(r.geo.origin).toEqual([500000, 6500000]);
      expect(r.geo.pixelSize).toEqual([30, -30]);
      expect(r.geo.epsg).toBe(32754);
    });
  }

  it('reads only the selected bands', async () => {
    const values = bandMajor(5, 0, 1000, true);
    const file = await writeSource('sel.tif', values, Uint16Array, '0');
    const r = await readGeoTiff(file, { bands: [2, 0] });
    expect(r.bands).toBe(2);
    expect(Array.from(r.data.subarray(0, W * H))).toEqual(Array.from(values.subarray(2 * W * H, 3 * W * H)));
    expect(Array.from(r.data.subarray(W * H))).toEqual(Array.from(values.subarray(0, W * H)));
    await expect(readGeoTiff(file, { bands: [3] })).rejects.toThrow(/sel\.tif: band 3 does not exist \(the file has 3, numbered from 0\)$/);
  });

  it('refuses a header over the value limit before decoding, naming the file', async () => {
    const file = await writeSource('big.tif', bandMajor(6, 0, 9, true), Uint8Array, '0');
    await expect(readGeoTiff(file, { maxValues: W * H * B - 1 })).rejects.toThrow(/big\.tif: 7×5 pixels × 3 bands = 105 values exceeds the limit of 104$/);
  });

  it('refuses a file that is not a TIFF in one line', async () => {
    const file = join(dir, 'notes.tif');
    await writeFile(file, 'just some text, not an image\n');
    const err = await readGeoTiff(file).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/notes\.tif: not a GeoTIFF \(no TIFF header\)$/);
    expect((err as Error).message).not.toContain('\n');
    await expect(readGeoTiff(join(dir, 'missing.tif'))).rejects.toThrow(/missing\.tif: cannot be read \(ENOENT\)$/);
    // A TIFF header whose first directory lies past the end of the file.
    const broken = join(dir, 'broken.tif');
    await writeFile(broken, Uint8Array.from([0x49, 0x49, 42, 0, 0xff, 0xff, 0, 0]));
    await expect(readGeoTiff(broken)).rejects.toThrow(/broken\.tif: not a readable GeoTIFF \(.*\)$/);
  });
});

describe('writeLabelMap', () => {
  it('round-trips labels with the source georeferencing and a no-data value', async () => {
    const src = await readGeoTiff(await writeSource('src.tif', bandMajor(9, 0, 500, true), Uint16Array, '-9999'));
    const r = rng(3), labels = new Uint8Array(W * H).map(() => Math.floor(r() * 6));
    labels[4] = LABEL_NODATA;
    const out = join(dir, 'labels.tif');
    await writeLabelMap(out, labels, W, H, src.geo);
    const back = await readGeoTiff(out);
    expect([back.width, back.height, back.bands, back.sampleType, back.noData]).toEqual([W, H, 1, 'uint8', LABEL_NODATA]);
    expect(Array.from(back.data)).toEqual(Array.from(labels));
    expect(back.geo.origin).toEqual(src.geo.origin);
    expect(back.geo.pixelSize).toEqual(src.geo.pixelSize);
    expect(back.geo.epsg).toBe(32754);
    expect(back.geo.geoKeyDirectory).toEqual(src.geo.geoKeyDirectory);
    expect(back.geo.geoKeys).toEqual(src.geo.geoKeys);
  });

  it('writes a raster without georeferencing as a plain pixel grid, not as whole-globe WGS 84', async () => {
    const out = join(dir, 'plain.tif');
    await writeLabelMap(out, new Uint8Array(W * H), W, H, null);
    const back = await readGeoTiff(out);
    expect(back.geo.epsg).toBeNull();
    expect(back.geo.origin).toEqual([0, 0]);
    expect(back.geo.pixelSize).toEqual([1, -1]);
    await expect(writeLabelMap(out, new Uint8Array(3), W, H, null)).rejects.toThrow(/plain\.tif: 3 labels do not fill a 7×5 map$/);
  });
});
