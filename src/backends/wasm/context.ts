import type { Storage } from '../backend.js';

/** What the kernel glue needs from the backend: pointers, scratch memory and a way to run exports. */
export interface KernelContext {
  ptr(s: Storage): number;
  /** Scratch block; release with scratchFree(ptr, bytes). */
  scratch(bytes: number): number;
  scratchFree(ptr: number, bytes: number): void;
  run(name: string, args: readonly number[], work: number): void;
  /** Writes int32 values at a byte offset (through a fresh view: memory may have grown). */
  writeInts(ptr: number, values: readonly number[]): void;
  readonly threads: number;
}

export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
export const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;
export const ceil8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Runs fn with scratch blocks of the given float counts, freeing them afterwards. */
export function withScratch(ctx: Pick<KernelContext, 'scratch' | 'scratchFree'>, floats: readonly number[], fn: (ptrs: number[]) => void): void {
  const ptrs = floats.map((f) => ctx.scratch(f * 4));
  try {
    fn(ptrs);
  } finally {
    ptrs.forEach((p, i) => ctx.scratchFree(p, floats[i]! * 4));
  }
}

