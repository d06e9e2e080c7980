import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { pixelAutoencoderToBytes } from '../../src/geo/geo-model-file.js';
import { LABEL_NODATA, readGeoTiff, writeLabelMap, writeRaster } from '../../src/geo/geotiff.js';
import { PixelAutoencoder, pixelAutoencoderPreset } from '../../src/geo/pixel-autoencoder.js';
import { labelColor, renderPreview } from '../../src/geo/preview.js';
import { makeScene, type Scene } from '../../src/geo/scene.js';
import { expectOneLine, runCli, runCliInProcess as inProcess } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-geomap-'));
const at = (...p: string[]) => join(dir, ...p);
const wasm = ['--backend', 'wasm', '--threads', '1'];
const S = 40;
let scene: Scene;

beforeAll(async () => {
  scene = makeScene({ sensor: 'sentinel2', width: S, height: S, seed: 3, units: 4, holes: 2 });
  await writeRaster(at('scene.tif'), scene.data, S, S, scene.geo, scene.noData);
  await writeLabelMap(at('ref.tif'), scene.reference, S, S, scene.geo);
  const aster = makeScene({ sensor: 'aster', width: S, height: S, seed: 3 });
  await writeRaster(at('aster.tif'), aster.data, S, S, aster.geo, aster.noData);
  await writeRaster(at('one-band.tif'), scene.data.slice(0, S * S), S, S, scene.geo, scene.noData);
  await writeLabelMap(at('ref-small.tif'), scene.reference.slice(0, S * (S - 8)), S, S - 8, scene.geo);
  const bytes = readFileSync(at('scene.tif'));
  writeFileSync(at('truncated.tif'), bytes.subarray(0, bytes.length >> 1));
  writeFileSync(at('noise.tif'), Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 255));
  await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } }).png().toFile(at('photo.png'));
  const engine = await createEngine({ backend: 'reference' });
  const model = new PixelAutoencoder(engine, pixelAutoencoderPreset('sae', 10, 5));
  writeFileSync(at('s2-model.safetensors'), await pixelAutoencoderToBytes(model));
  model.dispose();
  engine.dispose();
});

describe('inflow geomap', () => {
  it('pca, k auto (a real process): the map keeps size and georeferencing; preview, indices, plot and report are written', async () => {
    const r = runCli(dir, ['geomap', 'scene.tif', '--method', 'pca', '--out', 'pca/map.tif', '--reference', 'ref.tif', '--preview', 'pca/map.png',
      '--indices', 'pca/indices.json', '--plot', 'pca/indices.png', '--report', 'pca/report.json', ...wasm]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^scene\.tif \(40×40, 10 bands\): pca, k = \d \(elbow over 2…8\), majority 3 → pca\/map\.tif in [\d.]+ s on wasm\n/);
    expect(r.stdout).toMatch(/\naccuracy against ref\.tif: [\d.]+ %; recall per unit 0: /);
    const map = await readGeoTiff(at('pca/map.tif'));
    expect([map.width, map.height, map.bands, map.noData]).toEqual([S, S, 1, LABEL_NODATA]);
    expect(map.geo.origin).toEqual(scene.geo.origin);
    expect(map.geo.pixelSize).toEqual(scene.geo.pixelSize);
    expect(map.geo.epsg).toBe(32754);
    const report = JSON.parse(readFileSync(at('pca/report.json'), 'utf8'));
    const k = report.k as number;
    // No-data exactly where the scene had none in a band; labels 0…k−1 elsewhere.
    for (let p = 0; p < S * S; p++) {
      if (scene.data[p] === 0) expect(map.data[p]).toBe(LABEL_NODATA);
      else expect(map.data[p]).toBeLessThan(k);
    }
    const indices = JSON.parse(readFileSync(at('pca/indices.json'), 'utf8'));
    expect(indices).toMatchObject({ method: 'pca', k, chosenBy: 'elbow' });
    expect(indices.indices.map((row: { k: number }) => row.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (const row of indices.indices) for (const key of ['wcss', 'silhouette', 'calinskiHarabasz', 'daviesBouldin']) expect(Number.isFinite(row[key])).toBe(true);
    expect(report.accuracy.overall).toBeGreaterThan(0);
    expect(report.accuracy.confusion).toHaveLength(4);
    for (const png of ['pca/map.png', 'pca/indices.png']) {
      const meta = await sharp(at(png)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(S);
    }
    // The preview shows the map: each map pixel's block (the layout renderPreview reports) has its label's colour.
    const { data, info } = await sharp(at('pca/map.png')).raw().toBuffer({ resolveWithObject: true });
    const layout = renderPreview(Uint8Array.from(map.data), S, S);
    // The legend's width depends on its text; the map's place and enlargement do not.
    expect(info.channels).toBe(4);
    for (const p of [0, 7 * S + 9, S * S - 1, 20 * S + 20]) {
      const x = layout.mapX + (p % S) * layout.scale, y = layout.mapY + Math.floor(p / S) * layout.scale, o = (y * info.width + x) * 4;
      const l = map.data[p]!;
      expect(Array.from(data.subarray(o, o + 4))).toEqual(l === LABEL_NODATA ? [0, 0, 0, 0] : [...labelColor(l)]);
    }
  });

  it('sae with a few epochs at a fixed k: saves the model, which maps the scene again with --model', async () => {
    const a = await inProcess('geomap', at('scene.tif'), '--method', 'sae', '--epochs', '2', '--k', '4', '--out', at('sae', 'map.tif'), '--save-model', at('sae', 'm.safetensors'), '--seed', '1', ...wasm);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/sae, k = 4, majority 3 → .*map\.tif in [\d.]+ s on wasm\nautoencoder: 2 epochs, held-out MSE [\d.]+\n$/);
    expect(existsSync(at('sae', 'indices.json'))).toBe(false);
    // No --method: the model file's kind decides it.
    const b = await inProcess('geomap', at('scene.tif'), '--model', at('sae', 'm.safetensors'), '--k', '4', '--out', at('sae', 'again.tif'), '--seed', '1', ...wasm);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/: sae, k = 4, majority 3 → /);
    const first = await readGeoTiff(at('sae', 'map.tif')), second = await readGeoTiff(at('sae', 'again.tif'));
    // The same codes and the same seed: the same clusters.
    expect(Array.from(second.data)).toEqual(Array.from(first.data));
  });

  it('--make-scene writes a synthetic scene and its reference map, the same for the same seed', async () => {
    const r = await inProcess('geomap', at('made', 'a.tif'), '--make-scene', 'aster', '--seed', '4', '--scene-size', '24', '--units', '3');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a\.tif: synthetic aster scene, 24×24, 9 bands \(uint16, no-data 0\), seed 4; .*a-reference\.tif: its map of 3 units\n$/);
    const made = await readGeoTiff(at('made', 'a.tif')), ref = await readGeoTiff(at('made', 'a-reference.tif'));
    const want = makeScene({ sensor: 'aster', width: 24, height: 24, seed: 4, units: 3 });
    expect([made.width, made.bands, made.noData, made.geo.epsg]).toEqual([24, 9, 0, 32754]);
    expect(Array.from(made.data)).toEqual(Array.from(want.data));
    expect(Array.from(ref.data)).toEqual(Array.from(want.reference));
    expectOneLine(await inProcess('geomap', at('made', 'b.tif'), '--make-scene', 'aster', '--units', '13'), /--units must be an integer in 2…12, got 13$/);
    expectOneLine(await inProcess('geomap', at('made', 'b.tif'), '--make-scene', 'aster', '--preview', at('made', 'b.png')), /--preview applies when mapping; --make-scene only writes a scene/);
    expectOneLine(await inProcess('geomap', at('scene.tif'), '--units', '3', '--out', at('made', 'c.tif')), /--units applies to --make-scene only$/);
    expect(readdirSync(at('made')).sort()).toEqual(['a-reference.tif', 'a.tif']);
  });

  describe('refuses bad input in one line, exit 2, writing nothing', () => {
    const cases: [string, string[], RegExp][] = [
      ['a PNG', ['photo.png'], /photo\.png: not a GeoTIFF \(no TIFF header\)$/],
      ['random bytes', ['noise.tif'], /noise\.tif: not a GeoTIFF/],
      ['a truncated GeoTIFF', ['truncated.tif'], /truncated\.tif: truncated: its pixel data runs to byte \d+ but the file has \d+ bytes$/],
      ['a missing file', ['absent.tif'], /absent\.tif: cannot be read \(ENOENT\)$/],
      ['a raster with 1 band', ['one-band.tif'], /one-band\.tif: the raster has 1 band; geomap needs a multispectral raster/],
      ['one band selected', ['scene.tif', '--bands', '4'], /scene\.tif: one band selected; geomap needs a multispectral raster/],
      ['a band that does not exist', ['scene.tif', '--bands', '1,11'], /scene\.tif: band 10 does not exist \(the file has 10, numbered from 0\)/],
      ['a model for another band count', ['aster.tif', '--method', 'sae', '--model', 's2-model.safetensors'], /s2-model\.safetensors: the model was trained on 10 bands but aster\.tif has 9$/],
      ['a model of the other kind', ['scene.tif', '--method', 'ae', '--model', 's2-model.safetensors'], /s2-model\.safetensors: the model is a stacked autoencoder \(sae\), not --method ae$/],
      ['a reference of another size', ['scene.tif', '--reference', 'ref-small.tif'], /ref-small\.tif: the reference map is 40×32 but scene\.tif is 40×40/],
      ['a multi-band reference', ['scene.tif', '--reference', 'aster.tif'], /aster\.tif: the reference map has 9 bands/],
      ['k < 2', ['scene.tif', '--k', '1'], /option '--k <n\|auto>' argument '1' is invalid\. expected 'auto' or an integer from 2 to 8, got '1'/],
      ['k = 9', ['scene.tif', '--k', '9'], /expected 'auto' or an integer from 2 to 8, got '9'/],
      ['--model with pca', ['scene.tif', '--method', 'pca', '--model', 's2-model.safetensors'], /--model applies to --method ae or sae only \(the method is pca\)/],
      ['--epochs with --model', ['scene.tif', '--model', 's2-model.safetensors', '--epochs', '3'], /--epochs applies when training/],
      ['--decoder-output with pca', ['scene.tif', '--method', 'pca', '--decoder-output', 'relu'], /--decoder-output applies to --method ae or sae only \(the method is pca\)/],
      ['--majority 4', ['scene.tif', '--majority', '4'], /expected 0 \(off\), 3 or 5/],
      ['a preview that is not a PNG', ['scene.tif', '--preview', 'OUT/map.jpg'], /--preview bad-[\w-]+\/map\.jpg: the preview is a PNG; name a \.png file$/],
      ['two outputs to one file', ['scene.tif', '--indices', 'OUT/x.json', '--report', 'OUT/x.json'], /--report bad-[\w-]+\/x\.json: --indices names the same file$/],
    ];
    it.each(cases)('%s', async (_name, args, pattern) => {
      const out = `bad-${_name.replace(/\W+/g, '-')}`;
      const full = args.map((a) => a.replace('OUT', out));
      const prev = process.cwd();
      process.chdir(dir);
      try {
        // The case's flags come last: a repeated option's last value wins, so its own --preview is the one checked.
        const r = await inProcess('geomap', '--out', `${out}/map.tif`, '--preview', `${out}/map.png`, '--indices', `${out}/i.json`, ...wasm, ...full);
        expectOneLine(r, pattern);
      } finally {
        process.chdir(prev);
      }
      expect(existsSync(at(out))).toBe(false);
    });

    it('--out equal to the input, by the same or another spelling', async () => {
      const before = readFileSync(at('scene.tif'));
      for (const out of [at('scene.tif'), join(dir, '.', 'sae', '..', 'scene.tif')]) {
        const r = await inProcess('geomap', at('scene.tif'), '--method', 'pca', '--out', out, ...wasm);
        expectOneLine(r, /--out .*scene\.tif: is the input scene; geomap never overwrites its input$/);
      }
      expect(readFileSync(at('scene.tif')).equals(before)).toBe(true);
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    });

    it('--out is required and must be a GeoTIFF name', async () => {
      expectOneLine(await inProcess('geomap', at('scene.tif'), ...wasm), /--out <map\.tif> is required/);
      expectOneLine(await inProcess('geomap', at('scene.tif'), '--out', at('x.png'), ...wasm), /--out .*x\.png: the label map is written as a GeoTIFF; name a \.tif or \.tiff file/);
    });
  });
});
