// Licence plates (docs/plates.md): fit anchors, train the detector (resumable) and the character
// reader, measure AP@0.5 and reading accuracy on the held-out synthetic set.
//   node --import tsx scripts/plates.ts anchors [--size 128 --stride 16 --scenes 2000 --k 3]
//   nice -n 19 node --import tsx scripts/plates.ts train-detector --dir runs/plates --steps 5000 --batch 16 [--resume] [--out models/plate-detector.safetensors]
//   nice -n 19 node --import tsx scripts/plates.ts train-reader [--scenes 1500 --epochs 6 --reader-size 256 --out models/plate-reader.safetensors]
//   nice -n 19 node --import tsx scripts/plates.ts eval --model models/plate-detector.safetensors [--count 300] [--reader models/plate-reader.safetensors]
// Backend: --backend wasm --threads 1 (defaults).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { plateScenes } from '../src/data/plates/dataset.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { loadClassifier, saveClassifier } from '../src/io/classifier-file.js';
import { fitAnchors } from '../src/models/plates/anchors.js';
import { DEFAULT_PLATE_DETECTOR, plateDetectorParamCount } from '../src/models/plates/config.js';
import { plateDetectorAp } from '../src/models/plates/evaluate.js';
import { loadPlateDetector, savePlateDetector } from '../src/models/plates/plate-file-node.js';
import { PlateDetector } from '../src/models/plates/plate-detector.js';
import { glyphDataset, newPlateReader, readPlate } from '../src/models/plates/reader.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { trainClassifier } from '../src/train/classifier-training.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions } from '../src/train/loop.js';
import { PlateDetectorTask } from '../src/train/tasks/plate-detector.js';

const [command, ...rest] = process.argv.slice(2);
const { values: a } = parseArgs({
  args: rest,
  options: {
    size: { type: 'string', default: String(DEFAULT_PLATE_DETECTOR.inputSize) }, stride: { type: 'string', default: String(DEFAULT_PLATE_DETECTOR.stride) },
    scenes: { type: 'string' }, k: { type: 'string', default: '3' }, dir: { type: 'string', default: 'runs/plates' },
    steps: { type: 'string', default: '5000' }, batch: { type: 'string', default: '16' }, lr: { type: 'string', default: '0.002' },
    resume: { type: 'boolean', default: false }, 'checkpoint-every': { type: 'string', default: '100' }, 'eval-count': { type: 'string', default: '200' }, out: { type: 'string' }, model: { type: 'string' }, reader: { type: 'string' },
    count: { type: 'string', default: '300' }, 'reader-size': { type: 'string', default: '256' }, epochs: { type: 'string', default: '6' }, seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' }, threads: { type: 'string', default: '1' }, photos: { type: 'string', default: 'auto' },
  },
});
const photos = a.photos === 'auto' ? 'auto' : a.photos === 'true';
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) { console.error(`plates: --${name} = ${v} must be a number`); process.exit(2); }
  return n;
};
const engine = () => createEngine({ backend: a.backend as 'wasm', threads: num('threads', a.threads) });

if (command === 'anchors') {
  const size = num('size', a.size), stride = num('stride', a.stride);
  const set = await plateScenes({ split: 'train', count: num('scenes', a.scenes ?? '2000'), size, photos });
  const sizes: [number, number][] = [];
  for (let i = 0; i < set.count; i++) for (const p of set.scene(i).plates) sizes.push([p.box.width / stride, p.box.height / stride]);
  const anchors = fitAnchors(sizes, num('k', a.k));
  console.log(`${sizes.length} plates in ${set.count} scenes (${size}×${size}, stride ${stride}): anchors ${JSON.stringify(anchors.map(([w, h]) => [+w.toFixed(2), +h.toFixed(2)]))}`);
} else if (command === 'train-detector') {
  const e = await engine();
  const dir = a.dir!, steps = num('steps', a.steps), batch = num('batch', a.batch);
  const resume = a.resume && existsSync(checkpointPath(dir)) ? loadCheckpoint(checkpointPath(dir)) : undefined;
  // A resumed run takes its options and model config from the checkpoint, so it continues the same run.
  // The held-out count and the photo setting travel with the loop options, so a resumed run evaluates as the original would.
  type Options = LoopOptions & { evalCount: number; photos: boolean | 'auto' };
  const opts: Options = resume ? (resume.state.options as unknown as Options) : {
    ...defaultLoopOptions, epochs: 1, batch, lr: num('lr', a.lr), warmupSteps: 100, decay: Math.pow(0.1, 1 / steps), clip: 10,
    seed: num('seed', a.seed), checkpointDir: dir, checkpointEvery: num('checkpoint-every', a['checkpoint-every']), logPath: join(dir, 'log.jsonl'), evalEvery: 1,
    evalCount: num('eval-count', a['eval-count']), photos,
  };
  const config = resume ? (resume.modelConfig as unknown as typeof DEFAULT_PLATE_DETECTOR) : DEFAULT_PLATE_DETECTOR;
  const model = new PlateDetector(e, config, opts.seed);
  const train = await plateScenes({ split: 'train', count: (resume ? resume.state.order.length : steps * batch), size: config.inputSize, photos: opts.photos });
  const test = await plateScenes({ split: 'test', count: opts.evalCount, size: config.inputSize, photos: opts.photos });
  console.log(`plate detector: ${plateDetectorParamCount(config).toLocaleString('en')} parameters, ${train.count} training scenes (photos: ${train.photos}), ${resume ? `resuming at step ${resume.state.step}` : 'fresh'}`);
  const task = new PlateDetectorTask(model, { test });
  let sum = 0, n = 0;
  const t0 = performance.now();
  const result = await runTraining(task, train, opts, {
    onStep: (m) => {
      sum += m.loss;
      n++;
      if (m.step % 50 === 0 || m.step === m.totalSteps) {
        console.log(`step ${m.step}/${m.totalSteps} loss ${(sum / n).toFixed(3)} lr ${m.lr.toExponential(2)} ${((performance.now() - t0) / 1000).toFixed(0)} s`);
        sum = n = 0;
      }
    },
    onEpoch: (_e, ap) => console.log(`held-out AP@0.5 (${test.count} scenes): ${ap?.toFixed(4)}`),
  }, resume);
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(0)} s`);
  if (a.out) {
    mkdirSync(dirname(a.out), { recursive: true });
    const bytes = await savePlateDetector(model, a.out);
    console.log(`wrote ${a.out} (${bytes.length} bytes)`);
  }
} else if (command === 'train-reader') {
  const e = await engine();
  const scenes = num('scenes', a.scenes ?? '1500');
  // Larger scenes than the detector's: the reader learns characters at sizes a person could read.
  const size = num('reader-size', a['reader-size']);
  const train = glyphDataset(await plateScenes({ split: 'train', count: scenes, size, photos }), scenes);
  const test = glyphDataset(await plateScenes({ split: 'test', count: 300, size, photos }), 300);
  console.log(`reader: ${train.count} training glyphs, ${test.count} held-out`);
  const model = newPlateReader(e, num('seed', a.seed));
  const acc = await trainClassifier(e, model, train, test, { epochs: num('epochs', a.epochs), batch: 64, lr: 2e-3, seed: num('seed', a.seed), shift: 1 },
    (epoch, accuracy, loss) => console.log(`epoch ${epoch}: loss ${loss.toFixed(4)}, held-out glyph accuracy ${(100 * accuracy).toFixed(2)} %`));
  if (a.out) {
    mkdirSync(dirname(a.out), { recursive: true });
    await saveClassifier(model, a.out, { 'inflow.charset': '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'inflow.heldOutAccuracy': acc.toFixed(4) });
    console.log(`wrote ${a.out}`);
  }
} else if (command === 'eval') {
  const e = await engine();
  const count = num('count', a.count);
  const report: Record<string, unknown> = {};
  const detector = a.model ? loadPlateDetector(a.model, { engine: e }) : null;
  if (detector) {
    const test = await plateScenes({ split: 'test', count, size: detector.config.inputSize, photos });
    const pr = await plateDetectorAp(detector, test);
    report.detector = { ap50: +pr.ap.toFixed(4), plates: pr.groundTruths, truePositives: pr.truePositives, falsePositives: pr.falsePositives, scenes: count, photos: test.photos };
  }
  if (a.reader) {
    const { model: reader } = loadClassifier(a.reader, e);
    const test = await plateScenes({ split: 'test', count, size: num('reader-size', a['reader-size']), photos });
    let plates = 0, right = 0, chars = 0, charsRight = 0;
    for (let i = 0; i < count; i++) {
      const sc = test.scene(i);
      for (const p of sc.plates) {
        const read = await readPlate(reader, sc.image, p);
        plates++;
        if (read === p.text) right++;
        for (let k = 0; k < read.length; k++) if (read[k] !== ' ') { chars++; if (read[k] === p.text[k]) charsRight++; }
      }
    }
    report.reader = { plates, plateAccuracy: +(right / plates).toFixed(4), charAccuracy: +(charsRight / chars).toFixed(4) };
  }
  console.log(JSON.stringify(report));
} else {
  console.error('plates: usage: scripts/plates.ts anchors | train-detector | train-reader | eval (see the top of the file)');
  process.exit(2);
}
