import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import sharp from 'sharp';
import { InflowError } from '../../engine/errors.js';
import { checkImageGrid, writeImageGrid } from '../../io/png.js';
import { readRegularFile } from '../../io/model-file.js';
import { decodeSafetensors } from '../../io/safetensors.js';
import { ganGeneratorFromBytes } from '../../models/gan/gan-file.js';
import { GAN_CLASS_NAMES_KEY } from '../../models/gan/generator-state.js';
import { sampleGan } from '../../models/gan/sample.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { checkFolder, prepareOutput } from '../paths.js';
import { StagedWrites } from '../staged-writes.js';
import { UserError } from '../user-error.js';
import { ganTrainCommand } from './gan-train.js';

/** `inflow gan train | sample`: class-conditional GANs for balancing image sets (docs/gan.md §8). */
export function ganCommand(): Command {
  const cmd = new Command('gan')
    .description('class-conditional GANs (BigGAN-style, small): train one on labelled images, sample images of chosen classes (e.g. to balance a minority class)');
  for (const sub of [ganTrainCommand(), sampleCommand()]) cmd.addCommand(sub);
  return cmd;
}

interface SampleFlags extends EngineFlags {
  class: string;
  n: number;
  truncation?: number;
  seed: number;
  out: string;
  scale: number;
}

/** Sampling batch: bounds memory however many images are asked for. */
const SAMPLE_BATCH = 100;
/** Most images per class the folder output writes in one run. */
const MAX_PER_CLASS = 100_000;

function parseClass(value: string): string {
  if (value !== 'all' && !/^\S+$/.test(value)) throw new InvalidArgumentError(`expected a class number, a class name or 'all', got '${value}'`);
  return value;
}

function sampleCommand(): Command {
  return addEngineOptions(new Command('sample')
    .description('draw images of chosen classes from a GAN generator file: a PNG grid (a row per class) or, when --out is not a .png, a folder with one sub-folder of PNGs per class (ready to add to a class-folder data set)')
    .argument('<generator>', 'generator file (.safetensors, written by `inflow gan train`)')
    .option('--class <k>', "class number (0, 1, …), class name (as the file lists them), or 'all'", parseClass, 'all')
    .option('--n <count>', 'images per class', parsePositiveInt, 8)
    .option('--truncation <t>', 'redraw every noise value above t in magnitude (BigGAN\'s truncation trick: smaller t, more typical and less varied images; default: none)', parseNumber)
    .option('--seed <n>', 'seed of the noise', parseInteger, 0)
    .option('--out <path>', 'a .png grid, or a folder to fill with <class>/<class>-00000.png …', 'samples.png')
    .option('--scale <n>', 'pixel magnification of the grid PNG', parsePositiveInt, 2))
    .action(async (file: string, flags: SampleFlags) => {
      const grid = extname(flags.out).toLowerCase() === '.png';
      if (grid) prepareOutput('--out', flags.out);
      else checkFolder('--out', flags.out);
      if (!grid && flags.n > MAX_PER_CLASS) throw new UserError(`--n ${flags.n}: at most ${MAX_PER_CLASS} images per class in one run`);
      const bytes = readRegularFile(file, 'model');
      const engine = await engineFrom(flags);
      const G = ganGeneratorFromBytes(bytes, { engine, name: file });
      const c = G.config;
      const names = classNamesOf(bytes, c.classes);
      const classes = flags.class === 'all' ? [...Array(c.classes).keys()] : [classIndex(flags.class, names, file)];
      if (grid) checkImageGrid([classes.length * flags.n, c.imageChannels, c.resolution, c.resolution], flags.n, flags.scale);
      const t0 = performance.now();
      const labels = classes.flatMap((k) => Array<number>(flags.n).fill(k));
      const pixels = new Float32Array(labels.length * c.imageChannels * c.resolution ** 2);
      try {
        for (let s = 0; s < labels.length; s += SAMPLE_BATCH) {
          // Each batch its own noise seed, derived from --seed, so a batch's images do not repeat another's.
          const x = sampleGan(G, { labels: labels.slice(s, s + SAMPLE_BATCH), seed: flags.seed * 1_000_003 + s, ...(flags.truncation !== undefined ? { truncation: flags.truncation } : {}) });
          pixels.set((await x.data()).map((v) => (v + 1) * 127.5), s * c.imageChannels * c.resolution ** 2);
          x.dispose();
        }
      } catch (e) {
        if (e instanceof InflowError) throw new UserError(e.message);
        throw e;
      }
      const shape = [labels.length, c.imageChannels, c.resolution, c.resolution] as [number, number, number, number];
      if (grid) await writeImageGrid(flags.out, pixels, shape, flags.n, flags.scale);
      else await writeFolder(flags.out, pixels, shape, labels, names);
      const what = classes.map((k) => names[k]).join(', ');
      console.log(`${labels.length} samples (${flags.n} per class: ${what}; truncation ${flags.truncation ?? 'none'}; seed ${flags.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${engine.name} → ${flags.out}`);
      G.dispose();
      engine.dispose();
    });
}

/** The class names a generator file lists (written by `gan train`), else '0', '1', …. */
function classNamesOf(bytes: Uint8Array, classes: number): string[] {
  const fallback = Array.from({ length: classes }, (_, k) => String(k));
  const raw = decodeSafetensors(bytes).metadata[GAN_CLASS_NAMES_KEY];
  if (raw === undefined) return fallback;
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    return fallback;
  }
  // Names become folder names: only plain ones are used, so a file cannot steer writes elsewhere.
  const plain = (s: unknown) => typeof s === 'string' && /^[\w.-]{1,64}$/.test(s) && s !== '.' && s !== '..';
  return Array.isArray(names) && names.length === classes && names.every(plain) && new Set(names).size === classes ? (names as string[]) : fallback;
}

function classIndex(value: string, names: string[], file: string): number {
  const byName = names.indexOf(value);
  if (byName >= 0) return byName;
  const k = /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isSafeInteger(k) && k < names.length) return k;
  throw new UserError(`--class ${value}: unknown class; ${file} has ${names.length} classes: ${names.map((s, i) => (s === String(i) ? s : `${i} (${s})`)).join(', ')}`);
}

/** One image (0…255 floats, planar C × H × W) as PNG bytes of exactly H × W pixels. */
async function pngBytes(pixels: Float32Array, C: number, H: number, W: number): Promise<Uint8Array> {
  const plane = H * W, hwc = new Uint8Array(plane * C);
  for (let c = 0; c < C; c++) for (let p = 0; p < plane; p++) hwc[p * C + c] = Math.max(0, Math.min(255, Math.round(pixels[c * plane + p]!)));
  let img = sharp(hwc, { raw: { width: W, height: H, channels: C as 1 | 3 } });
  // Without this sharp writes one channel as an RGB PNG.
  if (C === 1) img = img.toColourspace('b-w');
  return new Uint8Array(await img.png().toBuffer());
}

/** One PNG per image in a sub-folder per class, all renamed into place only once every one is written. */
async function writeFolder(dir: string, pixels: Float32Array, shape: [number, number, number, number], labels: number[], names: string[]): Promise<void> {
  const [, C, H, W] = shape, per = C * H * W;
  const staged = new StagedWrites();
  const counter = new Map<number, number>();
  try {
    for (let i = 0; i < labels.length; i++) {
      const k = labels[i]!, j = counter.get(k) ?? 0;
      counter.set(k, j + 1);
      const target = join(dir, names[k]!, `${names[k]}-${String(j).padStart(5, '0')}.png`);
      // --out may be a data set's own class folders: images already there are never replaced.
      if (existsSync(target)) throw new UserError(`--out ${dir}: ${target} already exists; sample into a new folder`);
      staged.write(target, await pngBytes(pixels.subarray(i * per, (i + 1) * per), C, H, W));
    }
    staged.commit();
  } catch (e) {
    staged.abort();
    throw e;
  }
}
