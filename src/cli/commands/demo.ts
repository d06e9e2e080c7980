import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { mnistSplit } from '../../data/mnist.js';
import { writeImageGrid } from '../../io/png.js';
import { checkShape, evaluateWithClasses } from '../../train/evaluate.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { openModel } from '../open-model.js';
import { parseNumber } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';

export const BUNDLED_MODEL = fileURLToPath(new URL('../../../models/finc-mnist.safetensors', import.meta.url));

/** `inflow demo` (npm start): the bundled MNIST model's held-out bits/dim and a grid of 64 samples. */
export function demoCommand(): Command {
  return addEngineOptions(new Command('demo')
    .description('score the bundled MNIST FInC model on the 1000 held-out digits and sample 64 digits')
    .option('--model <file>', 'model file', BUNDLED_MODEL)
    .option('--out <file>', 'sample grid', 'out/samples.png')
    .option('--temperature <t>', 'sampling temperature (1 = the model as trained, lower = cleaner)', parseNumber, 0.7))
    .action(async (flags: EngineFlags & { model: string; out: string; temperature: number }) => {
      const t0 = performance.now();
      prepareOutput('--out', flags.out);
      const engine = await engineFrom(flags);
      const info = engine.info();
      console.log(`backend: ${engine.name} (${info.why}); ${Object.entries(info.details).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`);
      const model = await openModel(flags.model, engine);
      const { test } = mnistSplit();
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
      const tEvalStart = performance.now();
      const { bitsPerDim: bpd, accuracy } = await evaluateWithClasses(model, test, 100);
      const tEval = performance.now();
      console.log(`held-out bits/dim on the ${test.count} MNIST test digits: ${bpd.toFixed(4)}`);
      if (accuracy !== null) console.log(`the flow as a classifier (Bayes' rule on its ${model.classes} class densities): ${(accuracy * 100).toFixed(1)}% of the test digits`);
      const classes = model.classes ? ` (classes drawn uniformly from the ${model.classes}-class prior)` : '';
      console.log(`64 samples at temperature ${flags.temperature}${classes} → ${flags.out}`);
      console.log(`timings: start + load ${((tLoad - t0) / 1000).toFixed(2)} s, evaluate ${((tEval - tEvalStart) / 1000).toFixed(2)} s, sample 64 ${((tSample - tLoad) / 1000).toFixed(2)} s, total ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      x.dispose();
      model.dispose();
      engine.dispose();
    });
}
