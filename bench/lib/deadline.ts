// A wall-clock budget for a whole benchmark run and its sections, and timing that respects it: a
// run on a borrowed GPU has minutes, and what it measured before the budget ran out must still be
// written (bench/gpu.ts).
import { median, release, round3, type Timing, type TimingPlan } from './timing.js';

export class Deadline {
  constructor(readonly endMs: number) {}
  static in(ms: number): Deadline { return new Deadline(Date.now() + ms); }
  leftMs(): number { return this.endMs - Date.now(); }
  passed(): boolean { return this.leftMs() <= 0; }
  /** A section's share: at most `ms` from now, never past this deadline. */
  sub(ms: number): Deadline { return new Deadline(Math.min(this.endMs, Date.now() + ms)); }
}

export type Guarded<R> = { timing: Timing; cold: R; cut: boolean } | { skipped: string };

/**
 * One contender timed like bench/lib/timing.ts's sideBySide (a cold call, warmups, kept calls up to
 * the plan), except that no call starts unless the deadline leaves room for it, judged by the
 * slowest warm call so far (the cold one until a warm one is in). The cold call's result is returned (for agreement checks); `cut` says the
 * deadline, not the plan, ended the kept calls. With no kept call the cold time stands in.
 */
export async function timeGuarded<R>(call: () => Promise<R>, plan: TimingPlan, deadline: Deadline): Promise<Guarded<R>> {
  if (deadline.passed()) return { skipped: 'time guard: the budget was spent before this started' };
  let t0 = performance.now();
  const cold = await call();
  const coldMs = performance.now() - t0;
  // The cold call pays for compiling pipelines, so it stops judging once a warm call is in.
  let slowest = coldMs, warm = false;
  const note = (ms: number) => { slowest = warm ? Math.max(slowest, ms) : ms; warm = true; };
  const fits = () => deadline.leftMs() > 1.2 * slowest;
  let cut = false;
  for (let i = 0; i < plan.warmup; i++) {
    if (!fits()) { cut = true; break; }
    t0 = performance.now();
    release(await call());
    note(performance.now() - t0);
  }
  const samples: number[] = [];
  const start = performance.now();
  for (let r = 0; !cut && r < plan.reps; r++) {
    if (r >= plan.minReps && performance.now() - start > plan.budgetMs) break;
    if (!fits()) { cut = true; break; }
    t0 = performance.now();
    release(await call());
    const ms = performance.now() - t0;
    samples.push(ms);
    note(ms);
  }
  const kept = samples.length ? samples : [coldMs];
  return {
    timing: { coldMs: round3(coldMs), samplesMs: samples.map(round3), medianMs: round3(median(kept)), minMs: round3(Math.min(...kept)) },
    cold,
    cut,
  };
}
