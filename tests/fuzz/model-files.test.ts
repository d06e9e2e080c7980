// The CI subset of `npm run fuzz` (docs/fuzzing.md): seeded malformed model files through
// loadModel + sample + bitsPerDim, each case in a worker process with a time and memory limit.
import { describe, expect, it } from 'vitest';
import { FAILURES, type Outcome } from '../../fuzz/protocol.js';
import { describeFailures, runFuzz, runProbe } from '../../fuzz/runner.js';

/** About 25 s on 2 cores (measured: 300 cases, 21 s wall, of which ~3 s start-up and calibration). */
const CASES = 300;
/** Fixed, so a failure here is reproduced by `npm run fuzz -- --seed 11 --only <index>`. */
const SEED = 11;

describe('fuzzed model files', () => {
  it('the harness itself sees a memory overrun, a short peak, a hang, a crash and JS-internal text', async () => {
    const MiB = 2 ** 20;
    const [allocate, spike, spin, exit, internal] = await Promise.all([
      runProbe('allocate', 400 * MiB, 20_000),
      runProbe('spike', 400 * MiB, 20_000),
      runProbe('spin', 400 * MiB, 1500),
      runProbe('exit', 400 * MiB, 20_000),
      runProbe('internal', 400 * MiB, 20_000),
    ]);
    expect(allocate.outcome, allocate.message).toBe('memory');
    // no polling for the spike: only the per-case VmHWM (reset through clear_refs) can show it
    expect(spike.outcome, spike.message).toBe('memory');
    expect(spin.outcome, spin.message).toBe('hang');
    expect(exit.outcome, exit.message).toBe('crash');
    expect(internal).toMatchObject({ outcome: 'internal-text', message: expect.stringMatching(/not an InflowError.*Cannot read properties/) });
  }, 60_000);

  it(`${CASES} malformed files: no crash, hang, memory overrun, silent NaN/Inf, mismatch, wrongly accepted or rejected file, or JS-internal text`, async () => {
    const report = await runFuzz({ cases: CASES, seed: SEED, jobs: 2 });
    // every valid base loads and scores under the run's memory budget, or the limits mean nothing
    for (const c of report.memoryLimit.calibration) expect(c.outcome, `${c.base}: ${c.message}`).toBe('accepted');
    expect(report.memoryLimit.peakResetWorks).toBe(true);
    // the generator breaks files: most cases must be refused
    expect(report.counts.rejected).toBeGreaterThan(CASES / 2);
    const failures = Object.fromEntries(FAILURES.map((f) => [f, report.counts[f]])) as Record<Outcome, number>;
    expect(failures, describeFailures(report)).toEqual(Object.fromEntries(FAILURES.map((f) => [f, 0])));
  }, 300_000);
});
