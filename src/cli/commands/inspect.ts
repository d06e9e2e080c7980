import { Command } from 'commander';
import { inspectModelFile, readRegularFile } from '../../io/model-file.js';
import { ModelFileError, peekFormat, type NamedArray } from '../../io/safetensors.js';
import { checkAutoencoderBytes } from '../../models/autoencoder/autoencoder-bytes.js';
import { AUTOENCODER_FORMAT } from '../../models/autoencoder/format.js';
import { checkDiffusionBytes, DIFFUSION_FORMAT } from '../../models/diffusion/diffusion-model.js';
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
      const budget = flags.memoryBudget !== undefined ? { memoryBudget: flags.memoryBudget } : {};
      if (inspectOtherFormat(file, flags, budget)) return;
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

/**
 * Diffusion and autoencoder files, checked by their own loaders' checks (nothing built). Returns
 * false for anything else, which the flow path then checks and describes or refuses.
 */
function inspectOtherFormat(file: string, flags: { json?: boolean }, budget: { memoryBudget?: number }): boolean {
  let bytes: Uint8Array;
  try {
    bytes = readRegularFile(file, 'model');
  } catch {
    return false; // the flow path reads it again and reports why it cannot
  }
  const format = peekFormat(bytes);
  if (format !== DIFFUSION_FORMAT && format !== AUTOENCODER_FORMAT) return false;
  let checked: { config: unknown; tensors: Map<string, NamedArray>; params: number; checksummed: boolean };
  try {
    checked = format === DIFFUSION_FORMAT ? checkDiffusionBytes(bytes, file, budget) : checkAutoencoderBytes(bytes, file, budget);
  } catch (e) {
    if (e instanceof ModelFileError) throw new UserError(e.message);
    throw e;
  }
  const tensors = [...checked.tensors].map(([name, t]) => ({ name, shape: t.shape }));
  if (flags.json) {
    console.log(JSON.stringify({ format, config: checked.config, params: checked.params, bytes: bytes.length, checksummed: checked.checksummed, tensors }, null, 2));
    return true;
  }
  console.log(`${file}: ${(bytes.length / 1e6).toFixed(2)} MB, ${checked.params.toLocaleString('en')} parameters in ${tensors.length} tensors${checked.checksummed ? ', checksums verified' : ''}`);
  // Long per-layer lists (a coupling autoencoder's LU permutations) are counted, not printed: --json has them.
  const brief = JSON.stringify(checked.config, (_k, v: unknown) => (Array.isArray(v) && v.length > 8 ? `[${v.length} entries]` : v));
  console.log(`format ${format}; config: ${brief}`);
  console.log(`memory: ${mib(checked.params * 4)} of weights`);
  return true;
}
