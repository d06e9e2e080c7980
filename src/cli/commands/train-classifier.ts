import { Command } from 'commander';
import { mnistSplit } from '../../data/mnist.js';
import { saveClassifier } from '../../io/classifier-file.js';
import { DigitClassifier } from '../../models/classifier.js';
import { trainClassifier } from '../../train/classifier-training.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';

/** `inflow train-classifier`: the digit classifier that judges flow samples (models/mnist-classifier.safetensors). */
export function trainClassifierCommand(): Command {
  return addEngineOptions(new Command('train-classifier')
    .description('train the small MNIST digit classifier used to check sample quality')
    .option('--epochs <n>', 'passes over the 9000 training digits', parsePositiveInt, 8)
    .option('--batch <n>', 'images per step', parsePositiveInt, 64)
    .option('--lr <x>', 'peak learning rate', parseNumber, 2e-3)
    .option('--seed <n>', 'seed (an integer)', parseInteger, 0)
    .option('--out <file>', 'classifier file', 'mnist-classifier.safetensors'))
    .action(async (flags: EngineFlags & { epochs: number; batch: number; lr: number; seed: number; out: string }) => {
      prepareOutput('--out', flags.out);
      const engine = await engineFrom(flags);
      const { train, test } = mnistSplit();
      const model = new DigitClassifier(engine, undefined, flags.seed);
      console.log(`digit classifier: ${model.paramCount()} parameters, ${train.count} train / ${test.count} test digits, backend ${engine.name}`);
      const t0 = performance.now();
      const accuracy = await trainClassifier(engine, model, train, test,
        { epochs: flags.epochs, batch: flags.batch, lr: flags.lr, seed: flags.seed, shift: 2 },
        (e, acc, loss) => console.log(`epoch ${e + 1}: loss ${loss.toFixed(4)}, held-out accuracy ${(acc * 100).toFixed(2)}%`));
      makeParent(flags.out);
      await saveClassifier(model, flags.out, { 'inflow.heldOutAccuracy': accuracy.toFixed(4) });
      console.log(`held-out accuracy ${(accuracy * 100).toFixed(2)}% after ${((performance.now() - t0) / 1000).toFixed(0)} s → ${flags.out}`);
      model.dispose();
      engine.dispose();
    });
}
