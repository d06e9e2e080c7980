/**
 * The labelled images `inflow gan train` learns from (docs/gan.md §8): the procedural seeds at any
 * class ratio, imbalanced MNIST (digits 0–3 as four classes, padded to 32×32), or a folder of class
 * folders. What a run read is saved as a GanDataSpec in its checkpoint, so --resume reads the same.
 */
import { loadClassFolders } from '../../data/class-folders.js';
import { padImages } from '../../data/dataset.js';
import { imbalancedMnist } from '../../data/imbalanced-mnist.js';
import { countsFromRatio, SEED_CLASSES, SEED_IMAGES, seedImages } from '../../data/seeds/index.js';
import { InflowError } from '../../engine/errors.js';
import { UserError } from '../user-error.js';

export interface GanDataSpec {
  /** 'seeds', 'mnist-imbalanced', or 'folder' (then `folder` is the root of the class folders). */
  source: 'seeds' | 'mnist-imbalanced' | 'folder';
  folder?: string;
  /** seeds and MNIST: the class ratio and the total image count. */
  ratio?: number[];
  count?: number;
  /** Side of the square images (MNIST: always 32). */
  size: number;
  onCorrupt?: 'skip' | 'stop';
  maxImagePixels?: number;
}

export interface GanImages {
  /** [count, C, size, size] in [−1, 1]. */
  values: Float32Array;
  labels: Int32Array;
  shape: [number, number, number];
  classNames: string[];
  description: string;
}

/** MNIST digits that become the four classes. */
const MNIST_DIGITS = [0, 1, 2, 3];

const toUnit = (px: Uint8Array): Float32Array => Float32Array.from(px, (v) => v / 127.5 - 1);

/** Reads the images a spec names; every library error (an empty class folder, too many digits asked for) is one line. */
export async function loadGanImages(spec: GanDataSpec): Promise<GanImages> {
  try {
    if (spec.source === 'seeds') {
      const counts = countsFromRatio(spec.ratio!, spec.count!);
      const d = seedImages({ counts, size: spec.size, seed: SEED_IMAGES.seed });
      return { values: toUnit(d.images), labels: d.labels, shape: [3, spec.size, spec.size], classNames: [...SEED_CLASSES], description: `procedural seeds ${spec.size}×${spec.size}, ${counts.join(' : ')} (${SEED_CLASSES.join(', ')})` };
    }
    if (spec.source === 'mnist-imbalanced') {
      const counts = countsFromRatio(spec.ratio!, spec.count!);
      const { train } = imbalancedMnist({ digits: MNIST_DIGITS, counts });
      // 28×28 digits on a black 32×32 canvas: the presets need a power-of-two side.
      const values = toUnit(padImages(train, 32).images);
      return { values, labels: Int32Array.from(train.labels!), shape: [1, 32, 32], classNames: MNIST_DIGITS.map(String), description: `imbalanced MNIST digits ${MNIST_DIGITS.join(', ')}, ${counts.join(' : ')}, padded to 32×32` };
    }
    const { data, classNames } = await loadClassFolders(spec.folder!, {
      shape: [3, spec.size, spec.size], onCorrupt: spec.onCorrupt ?? 'skip', ...(spec.maxImagePixels !== undefined ? { maxPixels: spec.maxImagePixels } : {}),
    });
    if (classNames.length < 2) throw new UserError(`${spec.folder}: one class folder (${classNames[0]}); a conditional GAN needs at least two classes`);
    const per = classNames.map((_, k) => data.labels.filter((y) => y === k).length);
    return { values: toUnit(data.images), labels: data.labels, shape: [3, spec.size, spec.size], classNames, description: `${data.count} images in ${classNames.length} class folders of ${spec.folder} (${classNames.map((c, k) => `${c} ${per[k]}`).join(', ')}), ${spec.size}×${spec.size}` };
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(e.message);
    throw e;
  }
}
