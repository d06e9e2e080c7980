import { loadClassFolders } from '../data/class-folders.js';
import { padImages, subset, type ImageDataset } from '../data/dataset.js';
import { imbalancedMnist } from '../data/imbalanced-mnist.js';
import { Rng } from '../data/rng.js';
import { SEED_CLASSES, SEED_SIZES, seedSplit } from '../data/seeds/index.js';
import { describeValue, InflowError } from '../engine/errors.js';

/** A labelled pool to acquire from and a labelled held-out set, with the class names of the labels. */
export interface ActiveData {
  pool: ImageDataset & { labels: Int32Array };
  test: ImageDataset & { labels: Int32Array };
  classNames: string[];
  description: string;
}

export interface ActiveDataOptions {
  /** 'seeds' (procedural), 'mnist' (digits) or a folder of class folders. */
  data: string;
  /** Class names to use, in label order (seed grades, digits, or folder names); default all four grades, digits 0–3, or every folder. */
  classes?: readonly string[];
  /** Pool images per class (seeds and MNIST; one number for every class, or one per class). */
  pool: readonly number[];
  /** Held-out images per class; from a class folder, taken out of that class. */
  test: number;
  /** Image side (seeds 32 or 64; folders a multiple of 8; MNIST is always padded to 32). */
  size: number;
  /** Draws the folder hold-out (default 0); procedural and MNIST hold-outs are fixed sets. */
  seed?: number;
  /**
   * Each pool image this many times (default 1): the BatchBALD paper's repeated-MNIST test, where
   * a batch that takes several copies of one image spends labels on a question already asked.
   */
  copies?: number;
  warn?: (message: string) => void;
}

const perClass = (counts: readonly number[], n: number, what: string): number[] => {
  if (counts.length === 1) return new Array<number>(n).fill(counts[0]!);
  if (counts.length !== n) throw new InflowError(`${what}: ${counts.length} counts given for ${n} classes; give one for all or one per class`);
  return [...counts];
};

/** Refuses an unknown class in one line naming the known ones. */
function pickClasses(asked: readonly string[] | undefined, known: readonly string[], what: string, fallback: readonly string[] = known): string[] {
  const names = [...(asked ?? fallback)];
  for (const c of names) if (!known.includes(c)) throw new InflowError(`unknown class ${describeValue(c)} (the ${what} classes are ${known.join(', ')})`);
  if (new Set(names).size !== names.length) throw new InflowError(`a class is listed twice in ${names.join(', ')}`);
  if (names.length < 2) throw new InflowError(`active learning needs at least two classes, got ${names.join(', ') || 'none'}`);
  return names;
}

function relabel<D extends ImageDataset>(d: D, map: (label: number) => number): D & { labels: Int32Array } {
  return { ...d, labels: Int32Array.from(d.labels!, map) };
}

/** The data an active-learning run needs; errors are one-line InflowErrors. */
export async function activeLearningData(o: ActiveDataOptions): Promise<ActiveData> {
  const copies = o.copies ?? 1;
  if (!Number.isSafeInteger(copies) || copies < 1 || copies > 100) throw new InflowError(`copies ${describeValue(copies)} must be an integer from 1 to 100`);
  const d = await loadData(o);
  if (copies === 1) return d;
  // Copy c of image i sits at c·N + i, so copies are easy to recognise in the acquired positions.
  const order = Array.from({ length: copies * d.pool.count }, (_, j) => j % d.pool.count);
  const pool = { ...subset(d.pool, order, `${d.pool.name}-x${copies}`), labels: Int32Array.from(order, (i) => d.pool.labels[i]!) };
  return { ...d, pool, description: `${d.description}, every pool image ${copies} times` };
}

async function loadData(o: ActiveDataOptions): Promise<ActiveData> {
  if (o.data === 'seeds') {
    const names = pickClasses(o.classes, SEED_CLASSES, 'seed');
    if (!(SEED_SIZES as readonly number[]).includes(o.size)) throw new InflowError(`size ${o.size}: procedural seeds are ${SEED_SIZES.join(' or ')} pixels`);
    const counts = perClass(o.pool, names.length, 'pool');
    const at = (list: readonly number[]) => SEED_CLASSES.map((c) => { const k = names.indexOf(c); return k < 0 ? 0 : list[k]!; });
    const { train, test } = seedSplit({ train: at(counts), test: at(names.map(() => o.test)), size: o.size });
    const map = (label: number) => names.indexOf(SEED_CLASSES[label]!);
    return { pool: relabel(train, map), test: relabel(test, map), classNames: names, description: `procedural seeds ${o.size}×${o.size}` };
  }
  if (o.data === 'mnist') {
    const digits = pickClasses(o.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'MNIST', ['0', '1', '2', '3']);
    if (o.size !== 32) throw new InflowError(`size ${o.size}: MNIST digits are padded to 32 pixels`);
    const { train, test } = imbalancedMnist({ digits: digits.map(Number), counts: perClass(o.pool, digits.length, 'pool'), testPerClass: o.test });
    return { pool: padImages(train as ImageDataset & { labels: Int32Array }, 32), test: padImages(test as ImageDataset & { labels: Int32Array }, 32), classNames: digits, description: `MNIST digits ${digits.join(', ')}` };
  }
  if (o.size % 8 !== 0 || o.size < 8) throw new InflowError(`size ${o.size}: images are resized to a side that is a multiple of 8`);
  const { data, classNames } = await loadClassFolders(o.data, { shape: [3, o.size, o.size], ...(o.classes ? { classes: o.classes } : {}), ...(o.warn ? { warn: o.warn } : {}) });
  if (classNames.length < 2) throw new InflowError(`${o.data}: active learning needs at least two class folders, found ${classNames.join(', ')}`);
  // A seeded, per-class hold-out: every class keeps images in both sets.
  const rng = new Rng(o.seed ?? 0), poolIdx: number[] = [], testIdx: number[] = [];
  classNames.forEach((name, k) => {
    const of = rng.shuffle([...data.labels.keys()].filter((i) => data.labels[i] === k));
    if (of.length <= o.test) throw new InflowError(`${o.data}: class ${JSON.stringify(name)} has ${of.length} images; holding out ${o.test} per class leaves none to acquire`);
    testIdx.push(...of.slice(0, o.test));
    poolIdx.push(...of.slice(o.test));
  });
  const part = (idx: number[], what: string) => ({ ...subset(data, idx.sort((a, b) => a - b), `${o.data}-${what}`), labels: Int32Array.from(idx, (i) => data.labels[i]!) });
  return { pool: part(poolIdx, 'pool'), test: part(testIdx, 'test'), classNames, description: `class folders in ${o.data}` };
}
