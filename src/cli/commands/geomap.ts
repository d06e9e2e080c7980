/** `inflow geomap`: unsupervised rock-unit mapping of a multispectral GeoTIFF (docs/geomap.md). */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { checkModelBands, loadPixelAutoencoder, pixelAutoencoderToBytes } from '../../geo/geo-model-file.js';
import { geomap, type GeomapOptions, type GeomapResult } from '../../geo/geomap.js';
import { encodeGeoTiff, LABEL_NODATA, readGeoTiff, type Raster } from '../../geo/geotiff.js';
import { indexPlotPng } from '../../geo/index-plot.js';
import type { PixelAutoencoder } from '../../geo/pixel-autoencoder.js';
import { previewPng } from '../../geo/preview.js';
import { makeScene, type Sensor } from '../../geo/scene.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { prepareOutput, samePath } from '../paths.js';
import { CountProgress } from '../progress.js';
import { StagedWrites } from '../staged-writes.js';
import { UserError } from '../user-error.js';

/** The k the command offers: the paper's range, also the range the indices and the elbow cover. */
export const K_MIN = 2, K_MAX = 8;

interface GeomapFlags extends EngineFlags {
  method: 'pca' | 'ae' | 'sae';
  k: number | 'auto';
  out?: string;
  reference?: string;
  bands?: number[];
  preview?: string;
  previewNodata: 'transparent' | 'grey';
  indices?: string;
  plot?: string;
  saveModel?: string;
  model?: string;
  majority: 0 | 3 | 5;
  epochs?: number;
  optimizer?: 'sgd' | 'adam';
  decoderOutput?: 'linear' | 'relu' | 'selu';
  learningRate?: number;
  batchSize?: number;
  codeDim?: number;
  restarts?: number;
  seed?: number;
  report?: string;
  makeScene?: Sensor;
  sceneSize?: number;
  units?: number;
}

function parseK(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const k = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(Number.isInteger(k) && k >= K_MIN && k <= K_MAX)) throw new InvalidArgumentError(`expected 'auto' or an integer from ${K_MIN} to ${K_MAX}, got '${value}'`);
  return k;
}

/** 1-based band numbers as GDAL counts them, e.g. 2,3,4,8. */
function parseBands(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1)) throw new InvalidArgumentError(`expected band numbers from 1, separated by commas (e.g. 1,2,3), got '${value}'`);
  const bands = parts.map(Number);
  if (new Set(bands).size !== bands.length) throw new InvalidArgumentError(`a band is listed twice in '${value}'`);
  return bands;
}

function parseMajority(value: string): 0 | 3 | 5 {
  if (value !== '0' && value !== '3' && value !== '5') throw new InvalidArgumentError(`expected 0 (off), 3 or 5 (the window side), got '${value}'`);
  return Number(value) as 0 | 3 | 5;
}

/** Everything about the flags that can be judged without reading a file. */
function checkFlags(flags: GeomapFlags): { outputs: [string, string][]; inputs: [string, string][] } {
  if (flags.out === undefined) throw new UserError('--out <map.tif> is required: the label map to write (a GeoTIFF)');
  const trainFlags: [keyof GeomapFlags, string][] = [['epochs', '--epochs'], ['optimizer', '--optimizer'], ['decoderOutput', '--decoder-output'], ['learningRate', '--learning-rate'], ['batchSize', '--batch-size']];
  if (flags.method === 'pca') {
    for (const [key, flag] of [...trainFlags, ['model', '--model'], ['saveModel', '--save-model']] as [keyof GeomapFlags, string][])
      if (flags[key] !== undefined) throw new UserError(`${flag} applies to --method ae or sae only (the method is pca)`);
  }
  if (flags.model !== undefined) {
    if (flags.saveModel !== undefined) throw new UserError('--model and --save-model exclude each other: --model uses a trained autoencoder as it is');
    for (const [key, flag] of [...trainFlags, ['codeDim', '--code-dim']] as [keyof GeomapFlags, string][])
      if (flags[key] !== undefined) throw new UserError(`${flag} applies when training; with --model the autoencoder is used as trained`);
  }
  if (flags.learningRate !== undefined && !(flags.learningRate > 0)) throw new UserError(`--learning-rate ${flags.learningRate}: must be above 0`);
  if (flags.restarts !== undefined && flags.restarts > 100) throw new UserError(`--restarts ${flags.restarts}: at most 100`);
  if (flags.seed !== undefined && !(flags.seed >= 0 && flags.seed <= 0xffffffff)) throw new UserError(`--seed ${flags.seed}: must be an integer from 0 to 4294967295`);
  const ext = (flag: string, path: string | undefined, allowed: string[], what: string) => {
    if (path !== undefined && !allowed.includes(extname(path).toLowerCase())) throw new UserError(`${flag} ${path}: ${what}; name a ${allowed.join(' or ')} file`);
  };
  ext('--out', flags.out, ['.tif', '.tiff'], 'the label map is written as a GeoTIFF');
  ext('--preview', flags.preview, ['.png'], 'the preview is a PNG');
  ext('--plot', flags.plot, ['.png'], 'the plot is a PNG');
  const outputs: [string, string][] = [['--out', flags.out]];
  for (const [flag, p] of [['--preview', flags.preview], ['--indices', flags.indices], ['--plot', flags.plot], ['--save-model', flags.saveModel], ['--report', flags.report]] as const)
    if (p !== undefined) outputs.push([flag, p]);
  const inputs: [string, string][] = [];
  if (flags.reference !== undefined) inputs.push(['--reference', flags.reference]);
  if (flags.model !== undefined) inputs.push(['--model', flags.model]);
  return { outputs, inputs };
}

/** Outputs never replace an input and never collide with each other; each can be written. */
function checkOutputs(scene: string, outputs: [string, string][], inputs: [string, string][]): void {
  for (const [flag, p] of outputs) {
    if (samePath(p, scene)) throw new UserError(`${flag} ${p}: is the input scene; geomap never overwrites its input`);
    for (const [iflag, i] of inputs) if (samePath(p, i)) throw new UserError(`${flag} ${p}: is the ${iflag} file; geomap never overwrites its inputs`);
  }
  const seen = new Map<string, string>();
  for (const [flag, p] of outputs) {
    const r = resolve(p);
    if (seen.has(r)) throw new UserError(`${flag} ${p}: ${seen.get(r)} names the same file`);
    seen.set(r, flag);
  }
  for (const [flag, p] of outputs) prepareOutput(flag, p);
}

/** The reference map as class ids, checked against the scene's size. */
async function readReference(file: string, scene: Raster, sceneName: string): Promise<NonNullable<GeomapOptions['reference']>> {
  const ref = await readGeoTiff(file);
  if (ref.bands !== 1) throw new UserError(`${file}: the reference map has ${ref.bands} bands; it must be a single-band map of unit ids`);
  if (ref.width !== scene.width || ref.height !== scene.height)
    throw new UserError(`${file}: the reference map is ${ref.width}×${ref.height} but ${sceneName} is ${scene.width}×${scene.height}; they must cover the same pixels`);
  const noData = ref.noData ?? LABEL_NODATA;
  const labels = new Uint8Array(ref.data.length);
  for (let i = 0; i < ref.data.length; i++) {
    const v = ref.data[i]!;
    if (v === noData) { labels[i] = LABEL_NODATA; continue; }
    if (!(Number.isInteger(v) && v >= 0 && v < LABEL_NODATA))
      throw new UserError(`${file}: pixel ${i % ref.width},${Math.floor(i / ref.width)} holds ${v}; reference unit ids must be integers from 0 to ${LABEL_NODATA - 1} (or the no-data value)`);
    labels[i] = v;
  }
  return { labels, width: ref.width, height: ref.height, noData: LABEL_NODATA };
}

/** One bar per pipeline stage on a terminal; without one, plain lines every few seconds. */
function stageProgress(): { onProgress: NonNullable<GeomapOptions['onProgress']>; end: () => void } {
  let stage = '', bar: CountProgress | null = null;
  const units: Record<string, string> = { train: 'updates', encode: 'pixels', cluster: 'k' };
  return {
    onProgress: (e) => {
      // The pipeline alternates k-means and the indices for each k; one bar counting the k values covers both.
      if (e.stage === 'indices') return;
      if (e.stage !== stage) {
        bar?.end();
        stage = e.stage;
        bar = new CountProgress(e.stage, e.total, units[e.stage] ?? 'steps');
        bar.begin();
      }
      bar!.update(e.done);
    },
    end: () => { bar?.end(); bar = null; },
  };
}

/** Flags of the mapping run, refused with --make-scene (which only writes a scene). */
const MAP_FLAGS: [keyof GeomapFlags, string][] = [
  ['out', '--out'], ['reference', '--reference'], ['bands', '--bands'], ['preview', '--preview'], ['indices', '--indices'], ['plot', '--plot'],
  ['saveModel', '--save-model'], ['model', '--model'], ['report', '--report'], ['epochs', '--epochs'], ['optimizer', '--optimizer'], ['decoderOutput', '--decoder-output'],
  ['learningRate', '--learning-rate'], ['batchSize', '--batch-size'], ['codeDim', '--code-dim'], ['restarts', '--restarts'],
];

/** `--make-scene`: a synthetic scene and its reference map, for trying the command without data (docs/geomap.md §2). */
async function writeSyntheticScene(file: string, flags: GeomapFlags): Promise<void> {
  for (const [key, flag] of MAP_FLAGS) if (flags[key] !== undefined) throw new UserError(`${flag} applies when mapping; --make-scene only writes a scene to ${file}`);
  if (!['.tif', '.tiff'].includes(extname(file).toLowerCase())) throw new UserError(`${file}: the scene is written as a GeoTIFF; name a .tif or .tiff file`);
  const refFile = join(dirname(file), `${basename(file, extname(file))}-reference${extname(file)}`);
  prepareOutput('<scene>', file);
  prepareOutput('<scene>', refFile);
  const size = flags.sceneSize ?? 256, seed = flags.seed ?? 0;
  if (seed < 0 || seed > 0xffffffff) throw new UserError(`--seed ${seed}: must be an integer from 0 to 4294967295`);
  let scene;
  try {
    scene = makeScene({ sensor: flags.makeScene!, width: size, height: size, seed, ...(flags.units !== undefined ? { units: flags.units } : {}) });
  } catch (e) {
    // makeScene checks width first, and width = height here: its message names the flag.
    throw new UserError((e as Error).message.replace(/^scene: width must/, '--scene-size must').replace(/^scene: units/, '--units'));
  }
  // geotiff's writer takes pixel-interleaved samples.
  const plane = size * size, chunky = new Uint16Array(scene.data.length);
  for (let b = 0; b < scene.bands; b++) for (let p = 0; p < plane; p++) chunky[p * scene.bands + b] = scene.data[b * plane + p]!;
  const staged = new StagedWrites();
  try {
    staged.write(file, new Uint8Array(encodeGeoTiff(chunky, { width: size, height: size, geo: scene.geo, noData: scene.noData })));
    staged.write(refFile, new Uint8Array(encodeGeoTiff(scene.reference, { width: size, height: size, geo: scene.geo, noData: LABEL_NODATA })));
    staged.commit();
  } catch (e) {
    staged.abort();
    throw e;
  }
  console.log(`${file}: synthetic ${flags.makeScene} scene, ${size}×${size}, ${scene.bands} bands (uint16, no-data 0), seed ${seed}; ${refFile}: its map of ${scene.units} units`);
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function summary(scene: string, r: Raster, flags: GeomapFlags, res: GeomapResult, seconds: number, engine: Engine): string[] {
  const how = flags.k === 'auto' ? `k = ${res.k} (elbow over ${K_MIN}…${K_MAX})` : `k = ${res.k}`;
  const lines = [`${scene} (${r.width}×${r.height}, ${r.bands} bands): ${flags.method}, ${how}, majority ${flags.majority || 'off'} → ${flags.out} in ${seconds.toFixed(1)} s on ${engine.name}`];
  const last = res.history?.at(-1);
  if (last) lines.push(`autoencoder: ${res.history!.length} epochs, held-out MSE ${last.valLoss.toPrecision(4)}`);
  const at = res.indices.find((row) => row.k === res.k);
  if (at) lines.push(`indices at k = ${res.k}: silhouette ${at.silhouette.toFixed(3)}, Calinski–Harabasz ${at.calinskiHarabasz.toPrecision(4)}, Davies–Bouldin ${at.daviesBouldin.toFixed(3)}`);
  if (res.accuracy) {
    const a = res.accuracy;
    lines.push(`accuracy against ${flags.reference}: ${pct(a.overall)}; recall per unit ${a.recall.map((x, i) => `${i}: ${Number.isFinite(x) ? pct(x) : '–'}`).join(', ')}`);
  }
  return lines;
}

export function geomapCommand(): Command {
  return addEngineOptions(new Command('geomap')
    .description('map rock units in a multispectral GeoTIFF without labels: per-band scaling, a reduction (PCA, autoencoder or stacked autoencoder), k-means, a majority filter; writes the label map as a GeoTIFF with the scene\'s georeferencing')
    .argument('<scene>', 'multispectral GeoTIFF (2 or more bands, any common sample type; its GDAL no-data value is honoured)')
    .addOption(new Option('--method <name>', 'reduction before k-means: pca, ae (canonical autoencoder) or sae (stacked autoencoder)').choices(['pca', 'ae', 'sae']).default('sae'))
    .addOption(new Option('--k <n|auto>', `clusters: ${K_MIN}…${K_MAX}, or auto (the elbow of WCSS over ${K_MIN}…${K_MAX})`).argParser(parseK).default('auto'))
    .option('--out <map.tif>', 'the label map to write: uint8 GeoTIFF, unit ids 0…k−1, 255 where the scene has no data (required)')
    .option('--reference <ref.tif>', 'a reference map of unit ids of the same size: clusters are matched to its units (Hungarian method) and accuracy, recall and the confusion matrix reported')
    .option('--bands <list>', 'bands to use, numbered from 1 as in GDAL (e.g. 2,3,4,8; default all)', parseBands)
    .option('--preview <map.png>', 'a PNG of the map with a legend (colour, unit, share of pixels)')
    .addOption(new Option('--preview-nodata <how>', 'no-data pixels in the preview').choices(['transparent', 'grey']).default('transparent'))
    .option('--indices <file.json>', `WCSS, silhouette, Calinski–Harabasz and Davies–Bouldin for k = ${K_MIN}…${K_MAX}, as JSON`)
    .option('--plot <file.png>', `the elbow curve and the three indices against k (${K_MIN}…${K_MAX}), the chosen k marked`)
    .option('--save-model <file.safetensors>', 'ae/sae: write the trained autoencoder, to map other scenes of the same sensor with --model')
    .option('--model <file.safetensors>', 'ae/sae: use this trained autoencoder instead of training one (its band count must match; the method defaults to the model\'s)')
    .addOption(new Option('--majority <n>', 'majority filter window: 0 (off), 3 or 5').argParser(parseMajority).default(3))
    .option('--epochs <n>', 'ae/sae: training epochs (default 15; early stopping may end sooner)', parsePositiveInt)
    .addOption(new Option('--optimizer <name>', 'ae/sae: sgd (with Keras-style decay, the paper\'s) or adam (default: adam for sae, which measured better; sgd for ae)').choices(['sgd', 'adam']))
    .addOption(new Option('--decoder-output <activation>', 'ae/sae: activation of the last decoder layer (default linear; the paper\'s SAE is --decoder-output relu --optimizer sgd, which measured 12-17 points lower: docs/geomap.md §16)').choices(['linear', 'relu', 'selu']))
    .option('--learning-rate <lr>', 'ae/sae: initial learning rate (default 0.01 for sgd, 0.001 for adam)', parseNumber)
    .option('--batch-size <n>', 'ae/sae: pixels per update (default 256)', parsePositiveInt)
    .option('--code-dim <n>', 'values per pixel after the reduction: PCA components or the autoencoder\'s code size, 1…bands − 1 (default 5, the paper\'s, or bands − 1 when fewer)', parsePositiveInt)
    .option('--restarts <n>', 'k-means++ restarts, at most 100; the lowest WCSS wins (default 4)', parsePositiveInt)
    .option('--seed <n>', 'seed of training, k-means++ and index sampling (0…2³²−1, default 0)', parseInteger)
    .option('--report <file.json>', 'everything as JSON: inputs, method, chosen k, accuracy and confusion matrix, timings, and the indices when computed (--k auto, --indices or --plot)')
    .addOption(new Option('--make-scene <sensor>', 'instead of mapping: write a seeded synthetic scene (sentinel2: 10 bands, aster: 9) to <scene> and its reference map to <name>-reference.tif beside it').choices(['sentinel2', 'aster']))
    .option('--scene-size <n>', '--make-scene: side in pixels, 8…8192 (default 256)', parsePositiveInt)
    .option('--units <n>', '--make-scene: rock units, 2…12 (default 5)', parsePositiveInt))
    .addHelpText('after', `
Example with a synthetic scene and its reference map:
  inflow geomap scene.tif --make-scene sentinel2 --seed 1
  inflow geomap scene.tif --method sae --k auto --out map.tif --reference scene-reference.tif \\
    --preview map.png --plot indices.png
The input is never overwritten; outputs are written only when the whole run succeeded.`)
    .action(async (scene: string, flags: GeomapFlags, cmd: Command) => {
      if (flags.makeScene !== undefined) return writeSyntheticScene(scene, flags);
      if (flags.sceneSize !== undefined) throw new UserError('--scene-size applies to --make-scene only');
      if (flags.units !== undefined) throw new UserError('--units applies to --make-scene only');
      const { outputs, inputs } = checkFlags(flags);
      checkOutputs(scene, outputs, inputs);
      const raster = await readGeoTiff(scene, flags.bands ? { bands: flags.bands.map((b) => b - 1) } : {});
      if (raster.bands < 2)
        throw new UserError(`${scene}: ${flags.bands ? 'one band selected' : 'the raster has 1 band'}; geomap needs a multispectral raster (2 or more bands)`);
      const reference = flags.reference !== undefined ? await readReference(flags.reference, raster, scene) : undefined;
      const engine = await engineFrom(flags);
      let model: PixelAutoencoder | undefined, trained: PixelAutoencoder | undefined;
      const staged = new StagedWrites();
      const progress = stageProgress();
      const t0 = performance.now();
      try {
        if (flags.model !== undefined) {
          model = loadPixelAutoencoder(flags.model, { engine });
          try {
            checkModelBands(model, raster.bands, flags.bands ? `the ${raster.bands} bands selected from ${scene}` : scene);
          } catch (e) {
            throw new UserError(`${flags.model}: ${(e as Error).message.replace(/^geomap: /, '')}`);
          }
          // The file says which autoencoder it is: it decides the method unless the user named another.
          const variant = model.config.variant;
          if (cmd.getOptionValueSource('method') === 'default') flags.method = variant;
          else if (flags.method !== variant) throw new UserError(`${flags.model}: the model is ${variant === 'sae' ? 'a stacked' : 'a canonical'} autoencoder (${variant}), not --method ${flags.method}`);
        }
        // The indices cost k-means for every k of the range: only when asked for, or needed for the elbow.
        const wantIndices = flags.k === 'auto' || flags.indices !== undefined || flags.plot !== undefined;
        const opts: GeomapOptions = {
          method: flags.method, k: flags.k, kRange: [K_MIN, K_MAX], indices: wantIndices, majority: flags.majority,
          ...(model ? { model } : {}),
          ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}), ...(flags.optimizer !== undefined ? { optimizer: flags.optimizer } : {}),
          ...(flags.decoderOutput !== undefined ? { decoderOutput: flags.decoderOutput } : {}),
          ...(flags.learningRate !== undefined ? { learningRate: flags.learningRate } : {}), ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
          ...(flags.codeDim !== undefined ? { codeDim: flags.codeDim } : {}), ...(flags.restarts !== undefined ? { restarts: flags.restarts } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}), ...(reference ? { reference } : {}),
          onProgress: progress.onProgress,
        };
        // The raster was read with only the selected bands, so the pipeline uses all it is given.
        const res = await geomap(engine, raster, opts);
        trained = res.model;
        progress.end();
        const { width, height } = raster;
        staged.write(flags.out!, new Uint8Array(encodeGeoTiff(res.labels, { width, height, geo: raster.geo, noData: LABEL_NODATA })));
        const names = res.accuracy ? Array.from({ length: res.k }, (_, c) => (res.accuracy!.mapping[c]! >= 0 ? `cluster ${c} = unit ${res.accuracy!.mapping[c]}` : `cluster ${c} (unmatched)`)) : undefined;
        if (flags.preview !== undefined)
          staged.write(flags.preview, await previewPng(res.labels, width, height, { noData: flags.previewNodata, title: `${flags.method} k = ${res.k}`, ...(names ? { names } : {}) }));
        if (flags.indices !== undefined)
          staged.write(flags.indices, `${JSON.stringify({ scene, method: flags.method, k: res.k, chosenBy: flags.k === 'auto' ? 'elbow' : 'given', indices: res.indices }, null, 2)}\n`);
        if (flags.plot !== undefined) staged.write(flags.plot, await indexPlotPng(res.indices, res.k, `${basename(scene)} ${flags.method}`));
        if (flags.saveModel !== undefined && res.model) staged.write(flags.saveModel, await pixelAutoencoderToBytes(res.model));
        const seconds = (performance.now() - t0) / 1000;
        if (flags.report !== undefined) {
          const report = {
            scene, width, height, bands: raster.bands, selectedBands: flags.bands ?? null, method: flags.method, k: res.k,
            chosenBy: flags.k === 'auto' ? 'elbow' : 'given', majority: flags.majority, reference: flags.reference ?? null,
            accuracy: res.accuracy ?? null, indices: res.indices, history: res.history ?? null, seconds: { ...res.seconds, total: seconds },
            outputs: Object.fromEntries(outputs.map(([f, p]) => [f.slice(2), p])), engine: engine.name,
          };
          staged.write(flags.report, `${JSON.stringify(report, null, 2)}\n`);
        }
        staged.commit();
        for (const line of summary(scene, raster, flags, res, seconds, engine)) console.log(line);
      } catch (e) {
        staged.abort();
        throw e;
      } finally {
        progress.end();
        if (trained && trained !== model) trained.dispose();
        model?.dispose();
        engine.dispose();
      }
    });
}
