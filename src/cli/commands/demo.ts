import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { subset } from '../../data/dataset.js';
import { mnistSplit } from '../../data/mnist.js';
import { writeImageGrid } from '../../io/png.js';
import { checkShape, evaluateWithClasses } from '../../train/evaluate.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { openModel } from '../open-model.js';
import { parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { CountProgress } from '../progress.js';
import { UserError } from '../user-error.js';

export const BUNDLED_MODEL = fileURLToPath(new URL('../../../models/finc-mnist.safetensors', import.meta.url));

/**
 * Held-out digits `npm start` scores by default. p(x) of a class-conditional flow costs one pass per
 * class, so all 1 000 took 25 s on an idle 2-core machine and over a minute on a busy one (issue 12);
 * 200 take a fifth of that. They are the first 200 of the held-out split, which mnistSplit draws
 * at random, and `--digits 1000` (or `inflow eval --data mnist`) scores them all.
 */
export const DEMO_DIGITS = 200;

/** Small batches only so the progress bar moves: on wasm the time per digit barely depends on them. */
const DEMO_BATCH = 25;

/** `inflow demo` (npm start): the bundled MNIST model's held-out bits/dim and a grid of 64 samples. */
export function demoCommand(): Command {
  return addEngineOptions(new Command('demo')
    .description(`sample 64 digits from the bundled MNIST FInC model and score it on ${DEMO_DIGITS} of the 1000 held-out digits`)
    .option('--model <file>', 'model file', BUNDLED_MODEL)
    .option('--out <file>', 'sample grid', 'out/samples.png')
    .option('--temperature <t>', 'sampling temperature (1 = the model as trained, lower = cleaner)', parseNumber, 0.7)
    .option('--digits <n>', 'held-out digits to score, at most 1000 (each costs one pass per class)', parsePositiveInt, DEMO_DIGITS))
    .action(async (flags: EngineFlags & { model: string; out: string; temperature: number; digits: number }) => {
      const t0 = performance.now();
      prepareOutput('--out', flags.out);
      const { test } = mnistSplit();
      if (flags.digits > test.count) throw new UserError(`--digits ${flags.digits}: the held-out split has ${test.count} digits`);
      const engine = await engineFrom(flags);
      const info = engine.info();
      console.log(`backend: ${engine.name} (${info.why}); ${Object.entries(info.details).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
      if (info.rejected.webgpu) console.log(`webgpu not used: ${info.rejected.webgpu}`);
      const model = await openModel(flags.model, engine);
      try {
        checkShape(model, test);
      } catch (e) {
        throw new UserError(`--model ${flags.model}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const tLoad = performance.now();
      // Sampling first: it is quick, and a temperature the library refuses fails before the long evaluation.
      const x = await model.sample(64, { temperature: flags.temperature, seed: 0 });
      const values = await x.data();
      const tSample = performance.now();
      makeParent(flags.out);
      await writeImageGrid(flags.out, values, x.shape as [number, number, number, number], 8, 3);
      const classes = model.classes ? ` (classes drawn uniformly from the ${model.classes}-class prior)` : '';
      console.log(`64 samples at temperature ${flags.temperature}${classes} → ${flags.out}`);

      const n = flags.digits;
      const digits = n === test.count ? test : subset(test, [...Array(n).keys()]);
      const of = n === test.count ? `the ${n}` : `${n} of the ${test.count}`;
      const passes = model.classCouplings ? `, ${model.classes} passes each: p(x) takes one per class` : '';
      const all = n === test.count ? '' : `; --digits ${test.count} for all`;
      console.log(`scoring ${of} held-out MNIST test digits${passes}${all}`);
      const progress = new CountProgress('scoring', n, 'digits');
      const tEvalStart = performance.now();
      progress.begin();
      let result: Awaited<ReturnType<typeof evaluateWithClasses>>;
      try {
        result = await evaluateWithClasses(model, digits, Math.min(DEMO_BATCH, n), (done) => progress.update(done));
      } finally {
        progress.end();
      }
      const tEval = performance.now();
      console.log(`held-out bits/dim on ${of} MNIST test digits: ${result.bitsPerDim.toFixed(4)}`);
      if (result.accuracy !== null)
        console.log(`the flow as a classifier (Bayes' rule on its ${model.classes} class densities): ${(result.accuracy * 100).toFixed(1)}% of those ${n} digits`);
      console.log(`timings: start + load ${((tLoad - t0) / 1000).toFixed(2)} s, sample 64 ${((tSample - tLoad) / 1000).toFixed(2)} s, score ${n} ${((tEval - tEvalStart) / 1000).toFixed(2)} s, total ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      x.dispose();
      model.dispose();
      engine.dispose();
    });
}
