import { fail } from './errors.js';

/**
 * The memory budget: the most bytes one engine may be asked to hold for a model's weights plus the
 * activations of one call. Model files, batch sizes and thread counts are checked against it
 * before anything is allocated, so a hostile config or a careless flag fails at once with a
 * one-line error instead of exhausting the machine. 2 GiB by default (wasm32 memory tops out at
 * 4 GiB, and a browser tab rarely gets more); `createEngine({ memoryBudget })`, the
 * INFLOW_MEMORY_BUDGET environment variable (bytes, or with a K/M/G suffix) and the CLI's
 * --memory-budget change it.
 */
export const DEFAULT_MEMORY_BUDGET = 2 ** 31;

/** Most wasm worker threads an engine starts; each costs a worker and a wasm instance. */
export const MAX_THREADS = 64;

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses "3000000", "512M" or "2G" into bytes; `what` names the source in the error. */
export function parseBytes(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) fail(what, `'${text}' is not a size in bytes (e.g. 2G, 512M or 1000000)`);
  return bytes;
}

/** The budget an engine gets: the option if given, else INFLOW_MEMORY_BUDGET, else the default. */
export function resolveMemoryBudget(option?: number): number {
  if (option !== undefined) {
    if (!Number.isSafeInteger(option) || option < 1) fail('createEngine', `memoryBudget = ${String(option)} must be a positive whole number of bytes`);
    return option;
  }
  const env = typeof process !== 'undefined' ? process.env?.INFLOW_MEMORY_BUDGET : undefined;
  return env ? parseBytes(env, 'INFLOW_MEMORY_BUDGET') : DEFAULT_MEMORY_BUDGET;
}

const fmt = (bytes: number): string =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${bytes} bytes`;

/** Fails with `op: <what> needs <bytes>, over the memory budget of <budget>` unless bytes fit. */
export function checkBudget(op: string, what: string, bytes: number, budget: number): void {
  if (!(bytes <= budget))
    fail(op, `${what} needs ${Number.isFinite(bytes) ? fmt(bytes) : 'an unbounded amount of memory'}, over the memory budget of ${fmt(budget)} (raise it with memoryBudget / --memory-budget if this is intended)`);
}
