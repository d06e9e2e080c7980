/**
 * Conditional GAN generator files (docs/gan.md §6, the rules of docs/model-files.md): safetensors
 * with a CRC-32 per tensor and metadata entry, format 'inflow-gan-generator-1', the config checked
 * by its schema, the tensors exactly the generator state it implies (parameters, BatchNorm running
 * statistics and spectral-norm vectors), the memory budget — all before the generator is built.
 * The weights are the EMA's when one is given: those are the ones to sample from. Browser-safe.
 */
import { resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { formatEntry } from '../../io/model-bytes.js';
import { checkModuleBytes, moduleFromBytes, moduleToBytes, type ModuleFileKind } from '../../io/module-file.js';
import type { NamedArray } from '../../io/safetensors.js';
import type { Ema } from '../../train/ema.js';
import { checkGanConfig, generatorStateShapes, type GanConfig } from './config.js';
import { ConditionalGenerator } from './generator.js';

export const GAN_GENERATOR_FORMAT = 'inflow-gan-generator-1';

/** Bytes of one image's largest activations, generously: every block's output, ×6 for the temporaries. */
export function generatorActivationBytes(c: GanConfig): number {
  return 4 * 6 * c.gWidths.reduce((s, m, b) => s + m * c.ch * (4 * 2 ** b) ** 2, 0);
}

const GAN_FILE: ModuleFileKind<GanConfig> = {
  format: GAN_GENERATOR_FORMAT,
  otherFormat: (found) => `not an inflow GAN generator file (${formatEntry(found)})`,
  check: (json) => checkGanConfig(json),
  configName: 'GAN',
  what: 'GAN generator',
  shapes: generatorStateShapes,
  activationBytes: generatorActivationBytes,
  activations: "one image's activations",
  unit: 'values',
};

/** The generator's file: its config and its whole state dict (the EMA's parameters when `ema` averages this generator). */
export async function ganGeneratorToBytes(generator: ConditionalGenerator, ema?: Ema | null): Promise<Uint8Array> {
  const write = () => moduleToBytes(GAN_GENERATOR_FORMAT, generator.config, generator.namedState());
  return ema ? ema.withAverages(write) : write();
}

/** Every check of a generator file that needs no engine; nothing is built. */
export function checkGanGeneratorBytes(bytes: Uint8Array, name: string, memoryBudget = resolveMemoryBudget()): { config: GanConfig; tensors: Map<string, NamedArray>; values: number } {
  const { config, tensors, values } = checkModuleBytes(GAN_FILE, bytes, name, memoryBudget);
  return { config, tensors, values };
}

/** Checks a generator file's bytes and rebuilds the generator on `engine`, in eval mode (running statistics, fixed spectral-norm vectors). */
export function ganGeneratorFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }): ConditionalGenerator {
  return moduleFromBytes(GAN_FILE, 'loadGanGenerator', bytes, opts, (engine, config) => new ConditionalGenerator(engine, config)).eval();
}
