import type { WasmContext } from '../../engine/kernel.js';

export const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;
export const ceil8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Runs fn with wasm scratch blocks of the given float counts, freeing them afterwards. */
export function withScratch(ctx: Pick<WasmContext, 'scratch' | 'scratchFree'>, floats: readonly number[], fn: (ptrs: number[]) => void): void {
  const ptrs = floats.map((f) => ctx.scratch(f * 4));
  try {
    fn(ptrs);
  } finally {
    ptrs.forEach((p, i) => ctx.scratchFree(p, floats[i]! * 4));
  }
}
