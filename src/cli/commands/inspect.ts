import { Command } from 'commander';
import { inspectModelFile } from '../../io/model-file.js';
import { ModelFileError } from '../../io/safetensors.js';
import { memoryBudgetOption } from '../engine-option.js';
import { UserError } from '../user-error.js';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * `inflow inspect`: what a model file holds, without running it. It makes every check `inflow
 * sample` makes on the file (docs/model-files.md) — only the model is not built — so the two
 * accept exactly the same files and refuse the others with the same one-line message.
 */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description("a model file's config, layers, parameter count and size (after checking it as sample and eval do)")
    .argument('<model>', 'model file (.safetensors)')
    .option('--json', 'print machine-readable JSON')
    .addOption(memoryBudgetOption())
    .action((file: string, flags: { json?: boolean; memoryBudget?: number }) => {
      let info;
      try {
        info = inspectModelFile(file, flags.memoryBudget !== undefined ? { memoryBudget: flags.memoryBudget } : {});
      } catch (e) {
        if (e instanceof ModelFileError) throw new UserError(e.message);
        throw e;
      }
      const layers = new Map<string, number>();
      for (const t of info.tensors) {
        const layer = t.name.split('.').slice(0, -1).join('.');
        layers.set(layer, (layers.get(layer) ?? 0) + t.shape.reduce((a, b) => a * b, 1));
      }
      if (flags.json) {
        console.log(JSON.stringify({ ...info, layers: Object.fromEntries(layers) }, null, 2));
        return;
      }
      const m = info.config.model;
      console.log(`${file}: ${(info.bytes / 1e6).toFixed(2)} MB, ${info.params.toLocaleString('en')} parameters in ${info.tensors.length} tensors${info.checksummed ? ', checksums verified' : ''}`);
      console.log(`model: ${m.kind}, input ${m.inputShape.join('×')}, L ${m.levels} K ${m.steps}, width ${m.width}, k ${m.kernelSize}, coupling ${m.coupling}, split ${m.split}, 1×1 ${m.conv1x1}${m.classes ? `, class prior over ${m.classes} classes${m.classCouplings ? ', label-aware couplings' : ''}` : ''}`);
      console.log(`memory: ${mib(info.params * 4)} of weights, about ${mib(info.activationBytesPerImage)} more per image in a call`);
      console.log('layers (parameters):');
      for (const [name, n] of layers) console.log(`  ${name.padEnd(40)} ${n.toLocaleString('en')}`);
    });
}
