// Quality of a conditional GAN (docs/gan.md §9), judged by a classifier trained on real images only
// (a seed-classifier file: scripts/seed-classifier.ts --out): --n samples of every class, the share
// the classifier assigns to the class they were drawn for (per class and overall), and a proxy FID
// in the classifier's features against real held-out images — overall, per class, and the same
// number for real training images (the floor a perfect generator would reach at this sample size).
// Prints JSON (and writes it to --out). A measurement, not a test.
//   nice -n 19 node --import tsx scripts/gan-quality.ts <generator.safetensors> --classifier <file>
//     [--data seeds|mnist] [--n 1000] [--truncation t] [--seed 0] [--batch 100] [--threads 1] [--out quality.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { padImages, type ImageDataset } from '../src/data/dataset.js';
import { imbalancedMnist } from '../src/data/imbalanced-mnist.js';
import { seedSplit } from '../src/data/seeds/index.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { loadSeedClassifier } from '../src/io/seed-classifier-file.js';
import { frechetDistance } from '../src/models/frechet.js';
import { loadGanGenerator } from '../src/models/gan/gan-file-node.js';
import { judgeGan, realFeatureStats } from '../src/models/gan/judge.js';
import { sampleGan } from '../src/models/gan/sample.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    classifier: { type: 'string' }, data: { type: 'string', default: 'seeds' }, n: { type: 'string', default: '1000' },
    truncation: { type: 'string' }, seed: { type: 'string', default: '0' }, batch: { type: 'string', default: '100' },
    threads: { type: 'string', default: '1' }, out: { type: 'string' },
  },
});
function die(msg: string): never {
  console.error(`gan-quality: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : die(`--${name} must be a positive integer, got ${JSON.stringify(s)}`));
if (positionals.length !== 1) die('give one generator file (written by `inflow gan train`)');
if (!a.classifier) die('--classifier <file> is required: a seed classifier trained on real images only');
if (a.data !== 'seeds' && a.data !== 'mnist') die(`--data must be seeds or mnist, got ${JSON.stringify(a.data)}`);
const truncation = a.truncation === undefined ? undefined : Number(a.truncation);
if (truncation !== undefined && !(truncation >= 0.01)) die(`--truncation must be a number ≥ 0.01, got ${JSON.stringify(a.truncation)}`);
const perClass = int('n', a.n!), batch = int('batch', a.batch!), seed = Number(a.seed);
if (!Number.isSafeInteger(seed)) die(`--seed must be an integer, got ${JSON.stringify(a.seed)}`);

const engine = await createEngine({ backend: 'wasm', threads: int('threads', a.threads!) });
let G, judge;
try {
  G = loadGanGenerator(positionals[0]!, { engine });
  judge = loadSeedClassifier(a.classifier, engine).model;
} catch (e) {
  die(e instanceof Error ? e.message : String(e));
}
judge.eval();
const K = G.config.classes, R = G.config.resolution;

// Real reference images: held-out (never trained on, by generator or classifier) and training ones, perClass of each class.
let heldOut: ImageDataset, train: ImageDataset;
if (a.data === 'seeds') {
  if (R !== 32 && R !== 64) die(`the generator draws ${R}×${R} images; procedural seeds are 32 or 64`);
  ({ train, test: heldOut } = seedSplit({ train: Array(K).fill(perClass), test: Array(K).fill(perClass), size: R }));
} else {
  const { train: t, test } = imbalancedMnist({ counts: Array(K).fill(Math.min(perClass, 900)), testPerClass: Math.min(perClass, 890) });
  [train, heldOut] = [padImages(t, 32), padImages(test, 32)];
}

const t0 = performance.now();
const result = await judgeGan((labels, s) => sampleGan(G, { labels, seed: s, ...(truncation !== undefined ? { truncation } : {}) }), judge, {
  classes: K, perClass, batch, seed, onBatch: (done, total) => process.stderr.write(`\rjudged ${done}/${total}`),
});
process.stderr.write('\n');
const real = await realFeatureStats(judge, heldOut, K);
const floor = await realFeatureStats(judge, train, K);
const fid = (x: Parameters<typeof frechetDistance>[0], y: Parameters<typeof frechetDistance>[0]) => Number(frechetDistance(x, y).toFixed(3));
const report = {
  generator: positionals[0], classifier: a.classifier, data: a.data, perClass, truncation: truncation ?? null, seed,
  classifiedAsTheirClass: { overall: Number(result.overall.toFixed(4)), perClass: result.share.map((s) => Number(s.toFixed(4))) },
  confusion: result.confusion,
  proxyFid: {
    features: `seed classifier's last conv stage averaged over positions (${judge.config.widths[2]} numbers)`,
    samplesVsHeldOut: fid(result.features, real.features),
    perClass: result.classFeatures.map((f, k) => fid(f, real.classFeatures[k]!)),
    realTrainVsHeldOut: fid(floor.features, real.features),
    realTrainVsHeldOutPerClass: floor.classFeatures.map((f, k) => fid(f, real.classFeatures[k]!)),
  },
  seconds: Math.round((performance.now() - t0) / 1000),
};
// Lists of numbers on one line each, so the confusion matrix reads as a matrix.
const json = JSON.stringify(report, null, 2).replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_, body: string) => `[${body.split(/,\s*/).join(', ')}]`);
console.log(json);
if (a.out) writeFileSync(a.out, `${json}\n`);
G.dispose();
judge.dispose();
engine.dispose();

