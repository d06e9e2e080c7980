// Trains a seed-purity classifier (docs/seed-purity.md §4) on the procedural seeds or on imbalanced
// MNIST and prints held-out accuracy, per-class recall and macro-F1: a measurement, not a test.
//   nice -n 19 node --import tsx scripts/seed-classifier.ts [--data seeds|mnist] [--arch basic|resnet] [--size 32]
//     [--train 200,200,200,200] [--test 100,100,100,100] [--epochs 5] [--batch 32] [--lr 0.003] [--seed 1] [--threads 2]
//     [--out classifier.safetensors]   (--out: also save the trained classifier, e.g. as the judge of scripts/gan-quality.ts)
//     [--extra <class-folder>]   (appended to the training set: one sub-folder per class, named as the data's classes,
//                                 e.g. the minority images of `inflow gan sample … --out extra/`; docs/gan.md §9.2)
import { parseArgs } from 'node:util';
import type { ImageDataset } from '../src/data/dataset.js';
import { batchValues, padImages } from '../src/data/dataset.js';
import { loadClassFolders } from '../src/data/class-folders.js';
import { imbalancedMnist } from '../src/data/imbalanced-mnist.js';
import { SEED_CLASSES, seedSplit } from '../src/data/seeds/index.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { saveSeedClassifier } from '../src/io/seed-classifier-file.js';
import { defaultSeedClassifier, SeedClassifier } from '../src/models/seed-classifier/index.js';
import { defaultLoopOptions, runTraining } from '../src/train/loop.js';
import { Optimizer } from '../src/train/optimizer.js';
import { argmax, ClassifierTask } from '../src/train/tasks/classifier.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'seeds' },
    arch: { type: 'string', default: 'basic' },
    size: { type: 'string', default: '32' },
    train: { type: 'string', default: '200,200,200,200' },
    test: { type: 'string', default: '100,100,100,100' },
    epochs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.003' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    extra: { type: 'string' },
  },
});
function die(msg: string): never {
  console.error(`seed-classifier: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) ? Number(s) : die(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`));
const list = (name: string, s: string): number[] => s.split(',').map((x) => int(name, x));
const lr = Number(values.lr);
if (!(lr > 0)) die(`--lr must be a positive number, got ${JSON.stringify(values.lr)}`);
if (values.arch !== 'basic' && values.arch !== 'resnet') die(`--arch must be basic or resnet, got ${JSON.stringify(values.arch)}`);
if (values.data !== 'seeds' && values.data !== 'mnist') die(`--data must be seeds or mnist, got ${JSON.stringify(values.data)}`);

let train: ImageDataset, test: ImageDataset;
try {
  if (values.data === 'seeds') ({ train, test } = seedSplit({ train: list('train', values.train), test: list('test', values.test), size: int('size', values.size) }));
  else {
    const per = list('test', values.test);
    ({ train, test } = imbalancedMnist({ counts: list('train', values.train), testPerClass: Math.min(...per) }));
    // 28 × 28 digits padded to 32 × 32, which the classifiers' three halvings need.
    train = padImages(train, 32);
    test = padImages(test, 32);
  }
  if (values.extra) train = await withExtra(train, values.extra, values.data === 'seeds' ? [...SEED_CLASSES] : ['0', '1', '2', '3']);
} catch (e) {
  die(e instanceof Error ? e.message : String(e));
}
const classes = new Set(train.labels).size;
const engine = await createEngine({ backend: 'wasm', threads: int('threads', values.threads) });
const model = new SeedClassifier(engine, { ...defaultSeedClassifier, arch: values.arch, inputShape: [...train.shape], classes }, int('seed', values.seed));
const optimizer = new Optimizer(engine);
const t0 = performance.now();
await runTraining(new ClassifierTask(model, optimizer, null, 2), train, {
  ...defaultLoopOptions, epochs: int('epochs', values.epochs), batch: int('batch', values.batch), lr, warmupSteps: 20, clip: 0, seed: int('seed', values.seed),
}, { onEpoch: (epoch, _, { meanLoss }) => console.log(`epoch ${epoch + 1}: loss ${meanLoss.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`) });

const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
for (let s = 0; s < test.count; s += 100) {
  const idx = Array.from({ length: Math.min(100, test.count - s) }, (_, i) => s + i);
  const x = engine.tensor(batchValues(test, idx), [idx.length, ...test.shape]);
  (await model.predict(x)).forEach((p, i) => confusion[test.labels![idx[i]!]!]![argmax(p)]!++);
  x.dispose();
}
const recall = confusion.map((row, k) => row[k]! / Math.max(1, row.reduce((a, b) => a + b, 0)));
const precision = confusion.map((_, k) => confusion[k]![k]! / Math.max(1, confusion.reduce((a, row) => a + row[k]!, 0)));
const f1 = recall.map((r, k) => (r + precision[k]! > 0 ? (2 * r * precision[k]!) / (r + precision[k]!) : 0));
const accuracy = confusion.reduce((a, row, k) => a + row[k]!, 0) / test.count;
console.log(`${values.data} ${values.arch}: held-out accuracy ${(100 * accuracy).toFixed(1)} %, macro-F1 ${(f1.reduce((a, b) => a + b) / classes).toFixed(3)}, recall per class ${recall.map((r) => r.toFixed(2)).join(' ')}`);
if (values.out) {
  await saveSeedClassifier(model, values.out, { 'inflow.classes': JSON.stringify(values.data === 'seeds' ? SEED_CLASSES : [0, 1, 2, 3]), 'inflow.trainedOn': `${values.data} ${values.train}, real images only` });
  console.log(`classifier written to ${values.out}`);
}
optimizer.dispose();
model.dispose();

// Generated (or any extra) images join the training set only: the held-out set stays real.
// Sub-folder names must be class names of the data, so a folder can never land on the wrong label.
async function withExtra(d: ImageDataset, root: string, names: string[]): Promise<ImageDataset> {
  const { data, classNames } = await loadClassFolders(root, { shape: [...d.shape], onCorrupt: 'stop' });
  const label = classNames.map((n) => (names.includes(n) ? names.indexOf(n) : die(`--extra: class folder ${JSON.stringify(n)} is not one of ${names.join(', ')}`)));
  const images = new Uint8Array(d.images.length + data.images.length);
  images.set(d.images);
  images.set(data.images, d.images.length);
  const labels = Int32Array.from([...d.labels!, ...Array.from(data.labels, (k) => label[k]!)]);
  console.log(`--extra: ${data.count} images from ${root} (${classNames.join(', ')}) added to ${d.count} training images`);
  return { ...d, images, labels, count: d.count + data.count };
}

