import { Option } from 'commander';
import { subset, type ImageDataset } from '../data/dataset.js';
import { loadCifar10 } from '../data/cifar10.js';
import { DEFAULT_MAX_IMAGE_PIXELS, loadImageFolder } from '../data/image-folder.js';
import { mnistSplit } from '../data/mnist.js';
import { photoSplit } from '../data/photos.js';
import { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';
import { parsePositiveInt } from './options.js';
import { UserError } from './user-error.js';

export interface DataFlags {
  data?: string;
  images?: string;
  cifar?: string[];
  cifarTest?: string[];
  onCorrupt?: 'skip' | 'stop';
  maxImagePixels?: number;
}

export interface DataSplit {
  train: ImageDataset;
  test: ImageDataset | null;
  description: string;
}

export const maxImagePixelsOption = (): Option =>
  new Option('--max-image-pixels <n>', `with --images: an image whose header says it has more pixels (width × height) is not decoded but skipped with a warning (or stops the run with --on-corrupt stop)`)
    .argParser(parsePositiveInt).default(DEFAULT_MAX_IMAGE_PIXELS);

/** Share of an image folder held out for evaluation, by a fixed seed. */
const FOLDER_HOLDOUT = 0.1;

/** The library's data errors are the user's to fix: one line, exit 2. */
function asUserError(e: unknown): never {
  if (e instanceof UserError) throw e;
  if (e instanceof InflowError) throw new UserError(e.message);
  throw e;
}

/**
 * The training and held-out sets named by the flags: --data mnist (9 000 / 1 000 fixed split),
 * --images DIR (10 % held out), or --cifar FILES [--cifar-test FILES].
 */
export async function loadData(flags: DataFlags, shape: [number, number, number]): Promise<DataSplit> {
  const given = [flags.data, flags.images, flags.cifar].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UserError('name exactly one data source: --data mnist, --images <folder> or --cifar <files...>');
  try {
    if (flags.data !== undefined) {
      if (flags.data === 'photos') {
        const { train, test } = await photoSplit(shape);
        return { train, test, description: `skimage photos: ${train.count} train patches / ${test.count} patches of held-out photos` };
      }
      if (flags.data !== 'mnist' && flags.data !== 'mnist-test')
        throw new UserError(`unknown data set '${flags.data}' (built in: mnist, photos; use --images or --cifar for your own)`);
      const { train, test } = mnistSplit();
      return { train, test, description: 'MNIST (mnist package): 9000 train / 1000 test digits' };
    }
    if (flags.images !== undefined) {
      const all = await loadImageFolder(flags.images, {
        shape, onCorrupt: flags.onCorrupt ?? 'skip', ...(flags.maxImagePixels !== undefined ? { maxPixels: flags.maxImagePixels } : {}),
      });
      const order = new Rng(7).shuffle([...Array(all.count).keys()]);
      const nTest = all.count >= 10 ? Math.max(1, Math.round(all.count * FOLDER_HOLDOUT)) : 0;
      return {
        train: subset(all, order.slice(nTest)),
        test: nTest ? subset(all, order.slice(0, nTest)) : null,
        description: `${all.count} images from ${flags.images}, ${nTest} held out`,
      };
    }
    const train = loadCifar10(flags.cifar!);
    const test = flags.cifarTest ? loadCifar10(flags.cifarTest) : null;
    return { train, test, description: `CIFAR-10: ${train.count} train${test ? ` / ${test.count} test` : ''} images` };
  } catch (e) {
    asUserError(e);
  }
}

/** The evaluation set for `inflow eval`: the held-out part of the named source (all of it for CIFAR test files). */
export async function loadEvalData(flags: DataFlags, shape: [number, number, number]): Promise<ImageDataset> {
  if (flags.cifar) {
    try {
      return loadCifar10(flags.cifar);
    } catch (e) {
      asUserError(e);
    }
  }
  const split = await loadData(flags, shape);
  return split.test ?? split.train;
}
