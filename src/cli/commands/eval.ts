import { Command, Option } from 'commander';
import { checkShape, evaluateWithClasses } from '../../train/evaluate.js';
import { loadEvalData, maxImagePixelsOption, type DataFlags } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { checkDataParallel, dataParallelOption, replicaEngineFlags, where, withReplicas } from '../data-parallel-option.js';
import { openModel } from '../open-model.js';
import { parsePositiveInt } from '../options.js';
import { UserError } from '../user-error.js';

/** `inflow eval`: held-out bits/dim of a model file on a data set. */
export function evalCommand(): Command {
  return addEngineOptions(new Command('eval')
    .description('bits/dim of a model on a data set (every log-det included)')
    .argument('<model>', 'model file (.safetensors)')
    .option('--data <name>', "'mnist' (its 1000 held-out test digits)")
    .option('--images <folder>', 'a folder of images (its 10% held-out part)')
    .option('--cifar <files...>', 'CIFAR-10 batch files (all records)')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption())
    .option('--batch <n>', 'images per evaluation batch (the memory budget caps it)', parsePositiveInt, 100)
    .addOption(dataParallelOption('score every batch')))
    .action(async (file: string, flags: EngineFlags & DataFlags & { batch: number; dataParallel?: number }) => {
      checkDataParallel(flags);
      const engine = await engineFrom(replicaEngineFlags(flags, flags.dataParallel));
      const model = await openModel(file, engine);
      const data = await loadEvalData(flags, model.config.model.inputShape);
      try {
        checkShape(model, data);
      } catch (e) {
        throw new UserError(e instanceof Error ? e.message : String(e));
      }
      const t0 = performance.now();
      const { bitsPerDim, accuracy } = await withReplicas(model, flags.dataParallel, (dp) => evaluateWithClasses(model, data, flags.batch, undefined, dp ?? undefined));
      console.log(`${bitsPerDim.toFixed(4)} bits/dim on ${data.count} images of ${data.name} (${((performance.now() - t0) / 1000).toFixed(1)} s on ${where(engine.name, flags.dataParallel)})`);
      if (accuracy !== null) console.log(`the flow as a classifier (argmax of p(x | y) over its ${model.classes} classes): ${(accuracy * 100).toFixed(2)}% of the labels`);
      model.dispose();
      engine.dispose();
    });
}
