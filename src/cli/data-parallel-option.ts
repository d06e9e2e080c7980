/**
 * --data-parallel on the command line (docs/thread-scaling.md §6): the check that the command's own
 * engine can be replica 0, the engine flags that make it so, the option of the inference commands,
 * and the replicas' lifetime around one piece of work.
 */
import { Option } from 'commander';
import type { FlowModel } from '../models/flow-model.js';
import type { UNet } from '../models/unet/unet.js';
import { DataParallel } from '../parallel/data-parallel.js';
import type { EngineFlags } from './engine-option.js';
import { parsePositiveInt } from './options.js';
import { UserError } from './user-error.js';

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
