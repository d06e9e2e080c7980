import { Option, type Command } from 'commander';
import { createEngine, type EngineOptions } from '../engine/dispatcher.js';
import type { Engine } from '../engine/engine.js';
import type { WebGPUKernelSet } from '../backends/webgpu/tiled-choice.js';
import { backendChoices, parsePositiveInt, parseSize, type BackendChoice } from './options.js';
import { UserError } from './user-error.js';

export interface EngineFlags {
  backend: BackendChoice;
  threads?: number;
  memoryBudget?: number;
  webgpuKernels?: WebGPUKernelSet;
}

export const backendOption = (): Option =>
  new Option('--backend <name>', 'where to run: auto picks webgpu on a real GPU, else wasm').choices(backendChoices).default('auto');
export const threadsOption = (): Option =>
  new Option('--threads <n>', 'wasm worker threads, at most 64 (default: all cores)').argParser(parsePositiveInt);
export const memoryBudgetOption = (): Option =>
  new Option('--memory-budget <size>',
    'most memory a model\'s weights plus one batch may take, e.g. 512M or 8G; larger models and batches are refused before anything is allocated (default 2G, or INFLOW_MEMORY_BUDGET)')
    .argParser(parseSize);

/** Only a choice, no default: without the flag INFLOW_WEBGPU_KERNELS and then the adapter decide (docs/webgpu-kernels.md §1). */
export const webgpuKernelsOption = (): Option =>
  new Option('--webgpu-kernels <set>',
    'WebGPU matmul / convolution kernels: tiled (workgroup tiles, for GPUs) or simple (one invocation per output, for software adapters); default: INFLOW_WEBGPU_KERNELS, else chosen by the adapter')
    .choices(['tiled', 'simple']);

/** --backend, --threads, --memory-budget and --webgpu-kernels: every command that builds an engine takes all four. */
export function addEngineOptions(cmd: Command): Command {
  return cmd.addOption(backendOption()).addOption(threadsOption()).addOption(memoryBudgetOption()).addOption(webgpuKernelsOption());
}

/** The createEngine options the flags ask for. */
export const engineOptions = (flags: EngineFlags): EngineOptions => ({
  backend: flags.backend,
  ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
  ...(flags.memoryBudget !== undefined ? { memoryBudget: flags.memoryBudget } : {}),
  ...(flags.webgpuKernels !== undefined ? { webgpuKernels: flags.webgpuKernels } : {}),
});

/**
 * The engine the user asked for; a backend that cannot start is their mistake to fix, in one line.
 * createEngine checks the thread count and the budget; its message is reworded to name the flag.
 */
export async function engineFrom(flags: EngineFlags, extra: Partial<EngineOptions> = {}): Promise<Engine> {
  try {
    return await createEngine({ ...engineOptions(flags), ...extra });
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/^createEngine: /, '')
      .replace(/^threads = /, '--threads ').replace(/^memoryBudget = /, '--memory-budget ')
      .replace(/^webgpuKernels = /, '--webgpu-kernels ');
    throw new UserError(msg);
  }
}
