import { Option } from 'commander';
import { createEngine } from '../engine/dispatcher.js';
import type { Engine } from '../engine/engine.js';
import { backendChoices, parsePositiveInt, type BackendChoice } from './options.js';
import { UserError } from './user-error.js';

export interface EngineFlags {
  backend: BackendChoice;
  threads?: number;
}

export const backendOption = (): Option =>
  new Option('--backend <name>', 'where to run: auto picks webgpu on a real GPU, else wasm').choices(backendChoices).default('auto');
export const threadsOption = (): Option =>
  new Option('--threads <n>', 'wasm worker threads (default: all cores)').argParser(parsePositiveInt);

/** The engine the user asked for; a backend that cannot start is their mistake to fix, in one line. */
export async function engineFrom(flags: EngineFlags): Promise<Engine> {
  try {
    return await createEngine({ backend: flags.backend, ...(flags.threads ? { threads: flags.threads } : {}) });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message.replace(/^createEngine: /, '') : String(e));
  }
}
