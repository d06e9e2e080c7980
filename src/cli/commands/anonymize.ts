/** `inflow anonymize`: faces and licence plates in photos hidden by a chosen fill (docs/anonymize.md). */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { anonymize, FILL_DEFAULTS, FILL_MODES, MAX_BLOCKS, MAX_TELEA_RADIUS, type AnonymizeOptions, type FillMode } from '../../anonymize/anonymize.js';
import { MAX_DILATE } from '../../anonymize/mask.js';
import { MAX_DETECT_INPUT } from '../../models/detect/detect-faces.js';
import { SAME_PERSON_DISTANCE } from '../../anonymize/deidentify.js';
import { DEFAULT_FILL_TRIES, MAX_FILL_TRIES } from '../../anonymize/verify-identity.js';
import { loadFaceRecognitionNet, loadSsdMobilenetV1, loadTinyFaceDetector, recognizerWeightsBeside } from '../../models/detect/face-api-weights.js';
import type { FaceRecognitionNet } from '../../models/detect/face-recognition-net.js';
import type { DiffusionModel } from '../../models/diffusion/diffusion-model.js';
import { PLATE_TILE_DEFAULTS } from '../../models/plates/detect-plates-tiled.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../../models/plates/plate-file-node.js';
import type { PlateDetector } from '../../models/plates/plate-detector.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNonNegativeInt, parseNumber, parsePositiveInt } from '../options.js';
import { prepareOutput, samePath } from '../paths.js';
import { encodeMask, encodePhoto, isPhotoName, photoFormat, readPhoto, type PhotoFormat } from '../photo-files.js';
import { CountProgress } from '../progress.js';
import { StagedWrites } from '../staged-writes.js';
import { bundledModel, probeImage } from '../task-images.js';
import { UserError } from '../user-error.js';
import { openDiffusionModel } from './diffuse-shared.js';

/** The default model of --mode inpaint (docs/anonymize.md §4.1: how it was trained and what it measures). */
const BUNDLED_INPAINTER = bundledModel('inpaint-photos.safetensors');

interface AnonymizeFlags extends EngineFlags {
  out?: string;
  faces?: boolean;
  plates?: boolean;
  plateModel?: string;
  plateThreshold?: number;
  plateTiles?: number;
  mode: FillMode;
  report?: string;
  maskOut?: string;
  weights?: string;
  detector: 'tiny' | 'ssd';
  threshold?: number;
  inputSize?: number;
  shrink?: number;
  dilate?: number;
  blur?: number;
  blocks?: number;
  color?: [number, number, number];
  radius?: number;
  model?: string;
  steps?: number;
  seed?: number;
  jumpLength?: number;
  resample?: number;
  verify?: boolean;
  tries?: number;
}

/** One photo to do: where it comes from and where its outputs go. */
interface Job { input: string; output: string; format: PhotoFormat; mask?: string }

/** Flags that belong to one mode, by the option's key. */
const MODE_FLAGS: [keyof AnonymizeFlags, string, FillMode][] = [
  ['blur', '--blur', 'blur'], ['blocks', '--blocks', 'pixelate'], ['color', '--color', 'solid'], ['radius', '--radius', 'telea'],
  ['model', '--model', 'inpaint'], ['steps', '--steps', 'inpaint'], ['seed', '--seed', 'inpaint'], ['jumpLength', '--jump-length', 'inpaint'], ['resample', '--resample', 'inpaint'],
  ['tries', '--tries', 'inpaint'],
];

function parseColor(value: string): [number, number, number] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 3 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255))
    throw new InvalidArgumentError(`expected r,g,b with three integers from 0 to 255, got '${value}'`);
  return parts.map(Number) as [number, number, number];
}

const statOrNull = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

/** A folder the command fills: absent (created at the end) or empty, never one of the inputs' folders. */
function checkNewFolder(flag: string, dir: string, inputs: readonly string[]): void {
  const st = statOrNull(dir);
  if (st && !st.isDirectory()) throw new UserError(`${flag} ${dir}: is a file; with several photos ${flag} names a folder`);
  if (st && readdirSync(dir).length) throw new UserError(`${flag} ${dir}: the folder is not empty; name a new or empty folder (inputs are never overwritten)`);
  for (const f of inputs) if (samePath(dirname(f), dir)) throw new UserError(`${flag} ${dir}: is the folder of the input ${f}; name a new folder`);
}

const stem = (p: string): string => basename(p, extname(p));

/** The photos and where each one's outputs go, every path checked before any work. */
function planJobs(inputs: readonly string[], flags: AnonymizeFlags): Job[] {
  const first = inputs[0]!;
  const folder = inputs.length === 1 && statOrNull(first)?.isDirectory();
  let files: string[];
  if (folder) {
    files = readdirSync(first).filter((n) => isPhotoName(n) && statOrNull(join(first, n))?.isFile()).sort().map((n) => join(first, n));
    if (!files.length) throw new UserError(`${first}: the folder has no .png, .jpg, .jpeg or .webp files`);
  } else {
    for (const f of inputs) if (statOrNull(f)?.isDirectory()) throw new UserError(`${f}: is a folder; give one folder, or image files`);
    files = [...inputs];
  }
  const many = folder || files.length > 1;
  let jobs: Job[];
  if (!many) {
    const output = flags.out ?? join(dirname(first), `${stem(first)}-anonymized${extname(first) || '.png'}`);
    jobs = [{ input: first, output, format: photoFormat('--out', output) }];
    prepareOutput('--out', output);
    if (flags.maskOut !== undefined) {
      if (photoFormat('--mask-out', flags.maskOut) !== 'png') throw new UserError(`--mask-out ${flags.maskOut}: the mask is written as PNG; name a .png file`);
      prepareOutput('--mask-out', flags.maskOut);
      jobs[0]!.mask = flags.maskOut;
    }
  } else {
    const outDir = flags.out ?? (folder ? `${first.replace(/[\\/]+$/, '')}-anonymized` : undefined);
    if (outDir !== undefined) checkNewFolder('--out', outDir, files);
    if (flags.maskOut !== undefined) checkNewFolder('--mask-out', flags.maskOut, files);
    jobs = files.map((input) => {
      const output = outDir !== undefined ? join(outDir, basename(input)) : join(dirname(input), `${stem(input)}-anonymized${extname(input)}`);
      return { input, output, format: photoFormat('--out', output), ...(flags.maskOut !== undefined ? { mask: join(flags.maskOut, `${stem(input)}-mask.png`) } : {}) };
    });
    if (outDir === undefined) for (const j of jobs) prepareOutput('--out', j.output);
  }
  const written = jobs.flatMap((j) => [j.output, ...(j.mask ? [j.mask] : [])]).concat(flags.report !== undefined ? [flags.report] : []);
  for (const w of written) for (const f of files) if (samePath(w, f)) throw new UserError(`${w}: is an input; anonymize never overwrites its inputs`);
  const seen = new Set<string>();
  for (const w of written.map((p) => resolve(p))) {
    if (seen.has(w)) throw new UserError(`${w}: two outputs would be written to the same file`);
    seen.add(w);
  }
  return jobs;
}

/** Mode flags given with another mode, and ranges, checked with the flags' names before any work. */
function checkFlags(flags: AnonymizeFlags): void {
  if (flags.faces === false && !flags.plates) throw new UserError('--no-faces leaves nothing to hide: add --plates (licence plates only)');
  if (flags.faces === false)
    for (const [flag, given] of [['--detector ssd', flags.detector === 'ssd'], ['--weights', flags.weights !== undefined], ['--threshold', flags.threshold !== undefined], ['--input-size', flags.inputSize !== undefined]] as const)
      if (given) throw new UserError(`${flag} applies to faces, but --no-faces was given`);
  if (!flags.plates)
    for (const [flag, given] of [['--plate-model', flags.plateModel !== undefined], ['--plate-threshold', flags.plateThreshold !== undefined], ['--plate-tiles', flags.plateTiles !== undefined]] as const)
      if (given) throw new UserError(`${flag} applies to licence plates: add --plates`);
  if (flags.plateThreshold !== undefined && !(flags.plateThreshold > 0 && flags.plateThreshold < 1)) throw new UserError(`--plate-threshold ${flags.plateThreshold}: must be between 0 and 1 (a detection score)`);
  if (flags.plateTiles !== undefined && flags.plateTiles > 100_000) throw new UserError(`--plate-tiles ${flags.plateTiles}: must be at most 100000`);
  for (const [key, flag, mode] of MODE_FLAGS)
    if (flags[key] !== undefined && flags.mode !== mode) throw new UserError(`${flag} applies to --mode ${mode} only (the mode is ${flags.mode})`);
  const range = (flag: string, v: number | undefined, ok: (x: number) => boolean, what: string) => {
    if (v !== undefined && !ok(v)) throw new UserError(`${flag} ${v}: must be ${what}`);
  };
  range('--threshold', flags.threshold, (x) => x > 0 && x < 1, 'between 0 and 1 (a detection score)');
  if (flags.detector === 'ssd' && flags.inputSize !== undefined) throw new UserError('--input-size applies to --detector tiny; SSD-MobileNetV1 always looks at 512 × 512');
  range('--input-size', flags.inputSize, (x) => x >= 32 && x <= MAX_DETECT_INPUT && x % 32 === 0, `a multiple of 32 from 32 to ${MAX_DETECT_INPUT}`);
  range('--shrink', flags.shrink, (x) => x >= 0 && x < 0.5, 'from 0 up to (not including) 0.5: the fraction taken off each side of a box');
  range('--dilate', flags.dilate, (x) => x <= MAX_DILATE, `at most ${MAX_DILATE} pixels`);
  range('--blur', flags.blur, (x) => x > 0 && x <= 1, 'above 0, at most 1 (σ as a fraction of the region\'s shorter side)');
  range('--blocks', flags.blocks, (x) => x <= MAX_BLOCKS, `at most ${MAX_BLOCKS}`);
  range('--radius', flags.radius, (x) => x <= MAX_TELEA_RADIUS, `at most ${MAX_TELEA_RADIUS} pixels`);
  range('--seed', flags.seed, (x) => x >= 0 && x <= 0xffffffff, 'an integer from 0 to 4294967295');
  if (flags.verify && flags.faces === false) throw new UserError('--verify checks faces, but --no-faces was given');
  if (flags.tries !== undefined && !flags.verify) throw new UserError('--tries needs --verify: a face is filled again only when the check finds it still matches its original');
  range('--tries', flags.tries, (x) => x <= MAX_FILL_TRIES, `at most ${MAX_FILL_TRIES}`);
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

export function anonymizeCommand(): Command {
  return addEngineOptions(new Command('anonymize')
    .description('hide the faces (and with --plates the licence plates) in photos: face-api\'s TinyFaceDetector and inflow\'s plate detector find them, the central part of each box is filled (blur, pixelate, solid, telea or learned inpainting); pixels outside the mask are kept')
    .argument('<inputs...>', 'photos (PNG, JPEG or WebP), or one folder of them')
    .option('--out <path>', 'one photo: the file to write (.png, .jpg/.jpeg or .webp picks the format; default <name>-anonymized.<ext> beside it); several photos or a folder: a new or empty folder (default for a folder: <folder>-anonymized; for several files: each beside its input)')
    .option('--faces', 'hide faces (the default)')
    .option('--no-faces', 'do not look for faces (with --plates: licence plates only)')
    .option('--plates', 'also hide licence plates, found by the bundled plate detector (trained on synthetic Indian-style plates; docs/plates.md)')
    .option('--plate-model <file>', 'plates: a plate detector file (default: the bundled models/plate-detector.safetensors)')
    .option('--plate-threshold <score>', 'plates: keep plates scoring above this (default 0.5)', parseNumber)
    .option('--plate-tiles <n>', `plates: most overlapping tiles searched besides the whole photo, for small plates in large photos (default ${PLATE_TILE_DEFAULTS.maxTiles}; 0: whole photo only)`, parseNonNegativeInt)
    .addOption(new Option('--mode <mode>', 'how each masked region is filled').choices([...FILL_MODES]).default('telea'))
    .option('--report <file>', 'JSON with every photo\'s faces and plates (kind, box, score, mask rectangle), filled rectangles and output')
    .option('--mask-out <path>', 'the mask as a PNG (white = filled): a file for one photo, a new or empty folder for several (<name>-mask.png)')
    .addOption(new Option('--detector <name>', 'face-api\'s detector: tiny (TinyFaceDetector, fast) or ssd (SSD-MobileNetV1: ≈ 5× slower, finds smaller and turned faces)').choices(['tiny', 'ssd']).default('tiny'))
    .option('--weights <dir>', 'face-api\'s model folder (or the detector\'s weights manifest); default: the installed @vladmandic/face-api\'s model/')
    .option('--threshold <score>', 'keep faces scoring above this (default 0.5, as face-api)', parseNumber)
    .option('--input-size <n>', 'side of the detector\'s input, a multiple of 32 (default 416); larger finds smaller faces, slower', parsePositiveInt)
    .option('--shrink <fraction>', 'taken off each side of a face or plate box before filling (default 0.1: the central 80 % × 80 %, as in the Private IDD work)', parseNumber)
    .option('--dilate <px>', 'pixels added on every side after shrinking (default 0)', parseNonNegativeInt)
    .option('--blur <fraction>', `blur: σ of the Gaussian as a fraction of the region's shorter side (default ${FILL_DEFAULTS.blur})`, parseNumber)
    .option('--blocks <n>', `pixelate: blocks across the region's shorter side (default ${FILL_DEFAULTS.blocks})`, parsePositiveInt)
    .option('--color <r,g,b>', 'solid: the colour (default 0,0,0)', parseColor)
    .option('--radius <px>', `telea: neighbourhood radius (default ${FILL_DEFAULTS.radius})`, parsePositiveInt)
    .option('--model <file>', 'inpaint: a diffusion model file — mask-conditioned inpainting, or any pixel generation model (RePaint); default: the bundled models/inpaint-photos.safetensors (a small colour inpainter trained on photo patches, not on faces)')
    .option('--steps <n>', 'inpaint: denoiser steps (default: the model file\'s)', parsePositiveInt)
    .option('--seed <n>', 'inpaint: seed (0…2³²−1, default 0); the same seed, the same fill', parseInteger)
    .option('--jump-length <n>', 'inpaint with RePaint: positions each resampling jump climbs', parsePositiveInt)
    .option('--resample <r>', 'inpaint with RePaint: passes through each jump point (1 = no resampling)', parsePositiveInt)
    .option('--verify', `compare every hidden face with its original by face-api's 128-d recognition network (from --weights' folder or the installed package) and report the distance (above ${SAME_PERSON_DISTANCE}: no longer matched); with --mode inpaint a face that still matches is filled again with other seeds`)
    .option('--tries <n>', `inpaint with --verify: fills per face at most, the first included (default ${DEFAULT_FILL_TRIES})`, parsePositiveInt))
    .addHelpText('after', `
Modes: blur (Gaussian), pixelate (block means), solid (one colour), telea (fast-marching inpainting from
the surrounding pixels), inpaint (a diffusion model fills a crop around each face, resized to the model's
size; a grey model fills luma only; the default model is a 281 k-parameter colour inpainter trained on
photo patches, not on faces). On face-api's six demo photos (20 faces) the share whose 128-d
descriptor moves past face-api's same-person distance 0.6 is blur 80 %, pixelate 90 %, solid 95 %,
telea 80 %, inpaint with the default model 85–95 % by seed (90 % over seeds 0–9; docs/anonymize.md).
Licence plates (--plates; --plates --no-faces for plates only): the photo is searched whole and in
overlapping tiles down to 128 pixels (--plate-tiles bounds the count), so small plates in large photos are
found (recall 78 % on held-out plates pasted into 1920 × 1080 photos, docs/plates.md §10). After blur,
pixelate, solid or telea the glyph reader reads a different string on 96.7 % of held-out plates it read
before (docs/anonymize.md §10). The detector knows only synthetic Indian-style plates: it is no
street-tested plate detector.
--verify measures what the fill did: each face's descriptor distance goes into --report, and faces that
still match are named on stderr. With --mode inpaint (a random draw) it also fills such faces again, up to
--tries fills, keeping the draw that hides the most: on the demo photos 95 % of faces (19 of 20, the set's
ceiling) at each of ten seeds, against 85–95 % without. It is judged by the same network, so it says
face-api's recogniser at the detected box no longer matches them, not that no recogniser would: at a box
grown by 20 % the share moved only from 74.5 % to 76.5 % (docs/anonymize.md §4.2).
Inputs are never overwritten; outputs are written only when every photo succeeded. A photo without faces
or plates is written unchanged (exit 0). PNG and WebP outputs keep every pixel outside the mask exactly;
JPEG is lossy.`)
    .action(async (inputs: string[], flags: AnonymizeFlags) => {
      checkFlags(flags);
      const jobs = planJobs(inputs, flags);
      for (const j of jobs) await probeImage(j.input);
      if (flags.report !== undefined) prepareOutput('--report', flags.report);
      const engine = await engineFrom(flags);
      let model: DiffusionModel | undefined, plateDetector: PlateDetector | undefined, recognizer: FaceRecognitionNet | undefined;
      const faceOn = flags.faces !== false;
      const load = flags.detector === 'ssd' ? loadSsdMobilenetV1 : loadTinyFaceDetector;
      const detector = !faceOn ? undefined : await load(engine, flags.weights !== undefined ? { weights: flags.weights } : {}).catch((e) => {
        engine.dispose();
        throw e;
      });
      const staged = new StagedWrites();
      const progress = jobs.length > 1 ? new CountProgress('anonymize', jobs.length, 'photos') : null;
      const t0 = performance.now();
      const rows: unknown[] = [];
      let faces = 0, plates = 0, empty = 0;
      const matching: string[] = [];
      try {
        if (flags.mode === 'inpaint') model = await openDiffusionModel(flags.model ?? BUNDLED_INPAINTER, engine);
        if (flags.plates) plateDetector = loadPlateDetector(flags.plateModel ?? BUNDLED_PLATE_DETECTOR, { engine });
        if (flags.verify) recognizer = await loadFaceRecognitionNet(engine, recognizerWeightsBeside(flags.weights));
        const opts: AnonymizeOptions = {
          mode: flags.mode, ...(detector ? { detector } : { faces: false }),
          ...(plateDetector ? { plates: true, plateDetector } : {}),
          ...(flags.plateThreshold !== undefined ? { plateThreshold: flags.plateThreshold } : {}), ...(flags.plateTiles !== undefined ? { plateTiles: flags.plateTiles } : {}),
          ...(flags.threshold !== undefined ? { scoreThreshold: flags.threshold } : {}), ...(flags.inputSize !== undefined ? { inputSize: flags.inputSize } : {}),
          ...(flags.shrink !== undefined ? { shrink: flags.shrink } : {}), ...(flags.dilate !== undefined ? { dilate: flags.dilate } : {}),
          ...(flags.blur !== undefined ? { blur: flags.blur } : {}), ...(flags.blocks !== undefined ? { blocks: flags.blocks } : {}),
          ...(flags.color !== undefined ? { color: flags.color } : {}), ...(flags.radius !== undefined ? { radius: flags.radius } : {}),
          ...(model ? { model } : {}), ...(flags.steps !== undefined ? { steps: flags.steps } : {}), ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.jumpLength !== undefined ? { jumpLength: flags.jumpLength } : {}), ...(flags.resample !== undefined ? { resampleCount: flags.resample } : {}),
          ...(recognizer ? { recognizer } : {}), ...(flags.tries !== undefined ? { tries: flags.tries } : {}),
        };
        progress?.begin();
        for (const [i, job] of jobs.entries()) {
          const image = await readPhoto(job.input);
          const r = await anonymize(engine, image, opts);
          staged.write(job.output, await encodePhoto(r.image, job.format));
          if (job.mask) staged.write(job.mask, await encodeMask(r.mask));
          faces += r.boxes.length;
          plates += r.plates.length;
          if (!r.boxes.length && !r.plates.length) empty++;
          r.detections.forEach((d, k) => {
            if (d.distance !== undefined && d.distance <= SAME_PERSON_DISTANCE) matching.push(`${job.input} face ${k + 1} (distance ${d.distance.toFixed(3)})`);
          });
          const rounded = (d: { box: { x: number; y: number; width: number; height: number }; score: number }) =>
            ({ x: +d.box.x.toFixed(2), y: +d.box.y.toFixed(2), width: +d.box.width.toFixed(2), height: +d.box.height.toFixed(2), score: +d.score.toFixed(5) });
          rows.push({
            input: job.input, output: job.output, ...(job.mask ? { mask: job.mask } : {}), width: image.width, height: image.height,
            faces: r.boxes.length, boxes: r.boxes.map(rounded), ...(flags.plates ? { plates: r.plates.length } : {}),
            detections: r.detections.map((d) => ({
              kind: d.kind, ...rounded(d), rect: d.rect, ...(d.distance !== undefined ? { distance: +d.distance.toFixed(4), fills: d.fills } : {}),
            })),
            regions: r.regions,
          });
          progress?.update(i + 1);
        }
        progress?.end();
        if (flags.report !== undefined) {
          const report = {
            mode: flags.mode, ...(faceOn ? { threshold: flags.threshold ?? 0.5 } : {}),
            ...(flags.plates ? { plateThreshold: flags.plateThreshold ?? PLATE_TILE_DEFAULTS.scoreThreshold, plateTiles: flags.plateTiles ?? PLATE_TILE_DEFAULTS.maxTiles } : {}),
            shrink: flags.shrink ?? 0.1, dilate: flags.dilate ?? 0, faces, ...(flags.plates ? { plates } : {}),
            ...(recognizer ? { verify: { samePersonDistance: SAME_PERSON_DISTANCE, ...(flags.mode === 'inpaint' ? { tries: flags.tries ?? DEFAULT_FILL_TRIES } : {}), stillMatching: matching.length } } : {}),
            images: rows,
          };
          staged.write(flags.report, `${JSON.stringify(report, null, 2)}\n`);
        }
        staged.commit();
      } catch (e) {
        staged.abort();
        throw e;
      } finally {
        progress?.end();
        model?.dispose();
        detector?.dispose();
        recognizer?.dispose();
        plateDetector?.dispose();
        engine.dispose();
      }
      if (flags.verify)
        console.error(matching.length
          ? `warning: ${plural(matching.length, 'face')} still ${matching.length === 1 ? 'matches its' : 'match their'} original for face-api's recogniser (distance ≤ ${SAME_PERSON_DISTANCE}): ${matching.join(', ')}`
          : `verified: no hidden face matches its original for face-api's recogniser (every distance > ${SAME_PERSON_DISTANCE})`);
      const secs = ((performance.now() - t0) / 1000).toFixed(1), on = `in ${secs} s on ${engine.name}`;
      const found = [...(faceOn ? [plural(faces, 'face')] : []), ...(flags.plates ? [plural(plates, 'plate')] : [])].join(' and ');
      const nothing = [...(faceOn ? ['faces'] : []), ...(flags.plates ? ['plates'] : [])].join(' or ');
      if (jobs.length === 1) {
        const j = jobs[0]!, { width, height } = rows[0] as { width: number; height: number };
        console.log(faces + plates
          ? `${found} hidden (${flags.mode}) in ${j.input}, ${width}×${height} → ${j.output} ${on}`
          : `${flags.plates ? `no ${nothing}` : '0 faces'} above ${flags.plates ? 'the threshold' : flags.threshold ?? 0.5} in ${j.input}: written unchanged → ${j.output} ${on}`);
      } else {
        const where = flags.out ?? (statOrNull(inputs[0]!)?.isDirectory() ? dirname(jobs[0]!.output) : 'beside each input');
        console.log(`${found} hidden (${flags.mode}) in ${plural(jobs.length, 'photo')}${empty ? ` (${empty} without ${nothing})` : ''} → ${where} ${on}`);
      }
    });
}
