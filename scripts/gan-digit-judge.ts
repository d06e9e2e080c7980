// Quality of a GAN trained on imbalanced MNIST (docs/gan.md §9.2), judged like the bundled diffusion
// model and flow (README, "The bundled models"): the bundled digit classifier
// (models/mnist-classifier.safetensors, trained on real digits only) names each sample; a sample is
// right when its most probable digit is the one it was drawn for with p ≥ --threshold. The GAN's
// class k is digit k (`gan train --data mnist-imbalanced`: digits 0-3); its 32×32 samples are
// centre-cropped to the classifier's 28×28 (the training digits were padded by 2 pixels on each
// side, so the crop undoes the padding).
// Prints JSON (and writes it to --out). A measurement, not a test.
//   nice -n 19 node --import tsx scripts/gan-digit-judge.ts <generator.safetensors> [--n 1000]
//     [--classifier models/mnist-classifier.safetensors] [--threshold 0.9] [--truncation t] [--seed 0] [--threads 1] [--out judge.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { imbalancedMnist } from '../src/data/imbalanced-mnist.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { loadClassifier } from '../src/io/classifier-file.js';
import { frechetDistance } from '../src/models/frechet.js';
import { digitFeatureStats, judgeSamples, type LabelledSampler } from '../src/models/diffusion/judge.js';
import { loadGanGenerator } from '../src/models/gan/gan-file-node.js';
import { sampleGan } from '../src/models/gan/sample.js';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    classifier: { type: 'string', default: 'models/mnist-classifier.safetensors' }, n: { type: 'string', default: '1000' },
    threshold: { type: 'string', default: '0.9' }, truncation: { type: 'string' },
    seed: { type: 'string', default: '0' }, threads: { type: 'string', default: '1' }, out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log('scripts/gan-digit-judge.ts <generator.safetensors> [--n 1000] [--classifier models/mnist-classifier.safetensors] [--threshold 0.9] [--truncation t] [--seed 0] [--threads 1] [--out judge.json]:\n  share of a digit GAN\'s samples the bundled digit classifier names as the digit they were drawn for (docs/gan.md §9.2)');
  process.exit(0);
}
function die(msg: string): never {
  console.error(`gan-digit-judge: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) && Number(s) >= 1 ? Number(s) : die(`--${name} must be a positive integer, got ${JSON.stringify(s)}`));
if (positionals.length !== 1) die('give one generator file (written by `inflow gan train --data mnist-imbalanced`)');
const threshold = Number(a.threshold);
if (!(threshold >= 0 && threshold <= 1)) die(`--threshold must be a number in [0, 1], got ${JSON.stringify(a.threshold)}`);
const truncation = a.truncation === undefined ? undefined : Number(a.truncation);
if (truncation !== undefined && !(truncation >= 0.01)) die(`--truncation must be a number ≥ 0.01, got ${JSON.stringify(a.truncation)}`);
const perClass = int('n', a.n!), seed = Number(a.seed);
if (!Number.isSafeInteger(seed)) die(`--seed must be an integer, got ${JSON.stringify(a.seed)}`);

const engine = await createEngine({ backend: 'wasm', threads: int('threads', a.threads!) });
let G, judge;
try {
  G = loadGanGenerator(positionals[0]!, { engine });
  judge = loadClassifier(a.classifier!, engine).model;
} catch (e) {
  die(e instanceof Error ? e.message : String(e));
}
const K = G.config.classes, digits = [...Array(K).keys()], gen = G;
if (K > 10) die(`the generator has ${K} classes; a digit GAN has at most 10`);
const sampler: LabelledSampler = {
  engine, classes: K, imageShape: [G.config.imageChannels, G.config.resolution, G.config.resolution],
  // The GAN draws in [−1, 1]; the digit classifier takes pixels 0…255, the diffusion model's output units.
  sample: async (_n, o) => {
    const x = sampleGan(gen, { labels: o.labels, seed: o.seed, ...(truncation !== undefined ? { truncation } : {}) });
    const v = await x.data(), shape = [...x.shape];
    x.dispose();
    for (let i = 0; i < v.length; i++) v[i] = Math.min(255, Math.max(0, (v[i]! + 1) * 127.5));
    return engine.tensor(v, shape);
  },
};
const result = await judgeSamples(sampler, judge, { n: perClass * K, batch: 100, seed, threshold, onBatch: (d, t) => process.stderr.write(`\rjudged ${d}/${t}`) });
process.stderr.write('\n');

// FID proxy against the held-out test digits of these classes (28×28, as the classifier sees them);
// as many training digits per class give the floor at this sample size.
const { test } = imbalancedMnist({ digits, counts: digits.map(() => 0) });
const perDigit = digits.map((_, k) => test.labels!.filter((l) => l === k).length);
const { train } = imbalancedMnist({ digits, counts: perDigit });
const heldOut = await digitFeatureStats(judge, test), floor = await digitFeatureStats(judge, train);
const pct = (x: number) => Number((100 * x).toFixed(1));
const report = {
  generator: positionals[0], classifier: a.classifier, digits, perClass, threshold, truncation: truncation ?? null, seed,
  classifiedAsTheirDigit: { overallPercent: pct(result.right / result.n), perClass: result.perClass.map(([r, n]) => `${r}/${n}`) },
  confidentAsAnyDigitPercent: pct(result.confident / result.n),
  fidProxy: { samplesVsHeldOut: Number(frechetDistance(result.features, heldOut).toFixed(3)), realTrainVsHeldOut: Number(frechetDistance(floor, heldOut).toFixed(3)), heldOutDigits: test.count },
  seconds: Math.round(result.seconds),
};
const json = JSON.stringify(report, null, 2);
console.log(json);
if (a.out) writeFileSync(a.out, `${json}\n`);
G.dispose();
judge.dispose();
engine.dispose();
