/** One contender's times for one row: the first call apart, then the warm calls. */
export interface Timing {
  coldMs: number;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
}

export interface TimingPlan {
  /** Calls after the cold one that are not kept (tier-up, caches, allocator settling). */
  warmup: number;
  /** Most kept calls per contender. */
  reps: number;
  /** Fewest kept calls per contender, even past the budget. */
  minReps: number;
  /** Wall time after which no further round starts (once minReps are in). */
  budgetMs: number;
}

/** One call of a contender. What it returns (maybe via a Promise) is released after the clock stops if it has dispose(). */
export type Call = () => unknown;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function timeOnce(fn: Call): Promise<[number, unknown]> {
  const t0 = performance.now();
  const result = await fn();
  return [performance.now() - t0, result];
}

export function release(r: unknown): void {
  if (r && typeof (r as { dispose?: unknown }).dispose === 'function') (r as { dispose(): void }).dispose();
}

async function timeAndRelease(fn: Call): Promise<number> {
  const [ms, r] = await timeOnce(fn);
  release(r);
  return ms;
}

/**
 * Times several contenders in alternating rounds rather than one after the other: the machines are
 * shared and noisy, and a slow spell then hits every contender alike, so their ratio stays honest.
 */
export async function sideBySide(fns: readonly Call[], plan: TimingPlan): Promise<{ timings: Timing[]; coldResults: unknown[] }> {
  const cold: number[] = [];
  const coldResults: unknown[] = [];
  for (const fn of fns) {
    const [ms, r] = await timeOnce(fn);
    cold.push(ms);
    coldResults.push(r);
  }
  for (let i = 0; i < plan.warmup; i++) for (const fn of fns) await timeAndRelease(fn);
  const samples = fns.map((): number[] => []);
  const start = performance.now();
  for (let r = 0; r < plan.reps; r++) {
    if (r >= plan.minReps && performance.now() - start > plan.budgetMs) break;
    for (let i = 0; i < fns.length; i++) samples[i]!.push(await timeAndRelease(fns[i]!));
  }
  const timings = fns.map((_, i) => ({
    coldMs: round3(cold[i]!),
    samplesMs: samples[i]!.map(round3),
    medianMs: round3(median(samples[i]!)),
    minMs: round3(Math.min(...samples[i]!)),
  }));
  return { timings, coldResults };
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

export const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

/**
 * Sustained rate: each round runs every contender `block` times in a row and keeps all but the
 * first call of each block. Alternating single calls (sideBySide) leaves each contender's threads
 * idle while the others run, and on a virtual machine an idle core is handed away and comes back
 * cold; a loop that keeps calling one model (training, a loaded server) runs at this rate instead.
 */
export async function inBlocks(fns: readonly Call[], plan: { block: number; rounds: number }): Promise<number[][]> {
  const kept = fns.map((): number[] => []);
  for (let r = 0; r < plan.rounds; r++)
    for (let i = 0; i < fns.length; i++)
      for (let b = 0; b < plan.block; b++) {
        const ms = await timeAndRelease(fns[i]!);
        if (b > 0) kept[i]!.push(ms);
      }
  return kept;
}
