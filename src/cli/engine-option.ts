import { Option, type Command } from 'commander';
import { createEngine, type EngineOptions } from '../engine/dispatcher.js';
import type { Engine } from '../engine/engine.js';
import type { WebGPUKernelSet } from '../backends/webgpu/tiled-choice.js';
import { backendChoices, parsePositiveInt, parseSize, type BackendChoice } from './options.js';
import { UserError } from './user-error.js';
import type { FlowModel } from '../models/flow-model.js';
import type { UNet } from '../models/unet/unet.js';
import { DataParallel } from '../parallel/data-parallel.js';

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

/**
 * --data-parallel runs the model on one-thread wasm engines, one per thread (src/parallel): the
 * command's own engine must be one of them, so --threads and another backend are refused in one line.
 */
export function checkDataParallel(flags: EngineFlags & { dataParallel?: number }): void {
  if (flags.dataParallel !== undefined && (flags.threads !== undefined || !['auto', 'wasm'].includes(flags.backend)))
    throw new UserError('--data-parallel runs one-thread wasm engines, one per thread: drop --threads and --backend (or use --backend wasm)');
}

/** The engine flags of a run with `dataParallel` replicas (undefined: the flags as given). */
export const replicaEngineFlags = <F extends EngineFlags>(flags: F, dataParallel: number | undefined): F =>
  dataParallel !== undefined ? { ...flags, backend: 'wasm', threads: 1 } : flags;

/** Runs `fn` with the model replicated on `threads` threads (none: `fn(null)`), the workers stopped after. */
export async function withReplicas<T>(model: FlowModel | UNet, threads: number | undefined, fn: (dp: DataParallel | null) => Promise<T>): Promise<T> {
  if (threads === undefined) return fn(null);
  const dp = await DataParallel.create(model, { threads });
  try {
    return await fn(dp);
  } finally {
    await dp.close();
  }
}

/** --data-parallel of an inference command: its results are the one-thread results bit for bit. */
export const dataParallelOption = (work: string): Option =>
  new Option('--data-parallel <threads>', `${work} on this many threads, each running the whole model on its own one-thread wasm engine (the same bits as one thread; scales better than --threads)`).argParser(parsePositiveInt);

/** Where a command ran, for its summary line. */
export const where = (engineName: string, dataParallel: number | undefined): string =>
  dataParallel !== undefined ? `${dataParallel} wasm replica thread${dataParallel === 1 ? '' : 's'}` : engineName;
