// Conditional GAN smoke run (docs/gan.md §7): two MNIST digits (0 and 1) padded to 32×32 in [−1, 1],
// the 32×32 preset at a small width, n D steps per G step, an EMA generator; prints the losses and
// the share of fakes the discriminator catches, then writes the EMA generator file and a sample grid.
//   nice -n 19 node --import tsx scripts/gan-smoke.ts [--steps 200 --ch 8 --batch 16 --d-steps 2 --loss multi-hinge --ema-decay 0.99 --out runs/gan-smoke]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mnistSplit } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { writeImageGrid } from '../src/io/png.js';
import { ConditionalGan } from '../src/models/gan/conditional-gan.js';
import { ganPreset, type GanLossKind } from '../src/models/gan/config.js';
import { saveGanGenerator } from '../src/models/gan/gan-file-node.js';
import { sampleGan } from '../src/models/gan/sample.js';
import { Ema } from '../src/train/ema.js';
import { defaultLoopOptions, runTraining } from '../src/train/loop.js';
import { ConditionalGanTask } from '../src/train/tasks/conditional-gan.js';
import { tensorData } from '../src/train/tensor-data.js';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' }, ch: { type: 'string', default: '8' }, batch: { type: 'string', default: '16' },
    'd-steps': { type: 'string', default: '2' }, loss: { type: 'string', default: 'multi-hinge' }, lr: { type: 'string', default: '2e-4' },
    out: { type: 'string', default: 'runs/gan-smoke' }, threads: { type: 'string', default: '1' }, digits: { type: 'string', default: '0,1' },
    // 200 steps are too few for BigGAN's 0.9999: the average would still be mostly the initial weights.
    'ema-decay': { type: 'string', default: '0.99' },
  },
});
const num = (k: keyof typeof a) => Number(a[k]);
const digits = String(a.digits).split(',').map(Number);
if (a.loss !== 'hinge' && a.loss !== 'multi-hinge') throw new Error(`--loss must be hinge or multi-hinge, got ${a.loss}`);

// Two digits, padded 28 → 32 with background, scaled to [−1, 1].
const { train } = mnistSplit();
const keep = [...Array(train.count).keys()].filter((i) => digits.includes(train.labels![i]!));
const values = new Float32Array(keep.length * 1024).fill(-1);
const labels = keep.map((i) => digits.indexOf(train.labels![i]!));
keep.forEach((src, n) => {
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) values[n * 1024 + (y + 2) * 32 + x + 2] = train.images[src * 784 + y * 28 + x]! / 127.5 - 1;
});

const engine = await createEngine({ backend: 'wasm', threads: num('threads') });
const config = ganPreset(32, { classes: digits.length, imageChannels: 1, ch: num('ch'), loss: a.loss as GanLossKind });
const gan = new ConditionalGan(engine, config, 1);
const ema = new Ema(gan.generator, num('ema-decay'));
const task = new ConditionalGanTask(gan, { labels, discriminatorSteps: num('d-steps'), ema });
console.log(`${keep.length} images of digits ${digits}; G ${gan.generator.paramCount().toLocaleString('en')} / D ${gan.discriminator.paramCount().toLocaleString('en')} parameters; ${a.loss}, ${a['d-steps']} D steps per G step`);

const t0 = performance.now();
const rows: { step: number; g: number; d: number; caught: number }[] = [];
await runTraining(task, tensorData(values, [1, 32, 32]),
  { ...defaultLoopOptions, epochs: 1000, batch: num('batch'), lr: num('lr'), warmupSteps: 0, seed: 3, maxSteps: num('steps') },
  {
    onStep: (m) => {
      rows.push({ step: m.step, g: m.loss, d: m.metrics!.discriminator!, caught: m.metrics!.fakesCaught! });
      if ((m.step + 1) % 20 === 0) {
        const last = rows.slice(-20), avg = (f: (r: (typeof rows)[0]) => number) => last.reduce((s, r) => s + f(r), 0) / last.length;
        console.log(`step ${m.step + 1}: G ${avg((r) => r.g).toFixed(3)}  D ${avg((r) => r.d).toFixed(3)}  fakes caught ${(100 * avg((r) => r.caught)).toFixed(1)} %  ${((performance.now() - t0) / 1000 / (m.step + 1)).toFixed(2)} s/step`);
      }
    },
  });
const finite = rows.every((r) => Number.isFinite(r.g) && Number.isFinite(r.d));
const allCaught = rows.slice(-20).every((r) => r.caught === 1);
console.log(`losses finite: ${finite}; D caught every fake in each of the last 20 steps: ${allCaught}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);

mkdirSync(a.out!, { recursive: true });
await saveGanGenerator(gan.generator, join(a.out!, 'generator.safetensors'), ema);
const perClass = 8, sampleLabels = digits.flatMap((_, c) => Array(perClass).fill(c) as number[]);
for (const [name, run] of [['ema', true], ['trained', false]] as const) {
  const draw = async () => (await sampleGan(gan.generator, { labels: sampleLabels, truncation: 1, seed: 1 }).data()).map((v) => (v + 1) * 127.5);
  const px = run ? await ema.withAverages(draw) : await draw();
  await writeImageGrid(join(a.out!, `samples-${name}.png`), Float32Array.from(px), [sampleLabels.length, 1, 32, 32], perClass, 2);
}
console.log(`wrote ${a.out}/generator.safetensors and samples-{ema,trained}.png (one row per class)`);
task.dispose();
gan.dispose();
engine.dispose();
