import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gflops, median, round3 } from './lib/timing.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const FLAGS = ['--enable', 'simd', '-O3', '--runtime', 'stub', '--use', 'abort='];
/** Flops per loop iteration of each export in peak/peak.as, and the (m, c) that keep its values normal. */
const KERNELS = {
  chains12: { flopsPerIter: 96, m: 0.5, c: 1 },
  split12: { flopsPerIter: 96, m: 1, c: 1e-3 },
} as const;
type Variant = keyof typeof KERNELS;

export interface PeakSummary {
  /**
   * The best single-core f32x4 mul+add rate seen during the run, GFLOP/s: the denominator of every
   * "% of peak". The best sample, not a median: on a shared machine a peak is what an undisturbed
   * slice reaches, and samples are taken between rows all through the run to catch one.
   */
  gflopsPerCore: number;
  /** Median of all samples of the better variant: how far other work pulled a tight loop down. */
  medianGflopsPerCore: number;
  variants: Record<string, { bestGflops: number; medianGflops: number; samples: number }>;
  samplesGflops: number[];
  flags: string[];
  method: string;
}

/** Builds peak/peak.as with the project's own asc into a temp dir; the repo's build outputs stay untouched. */
function compilePeak(): Uint8Array<ArrayBuffer> {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-peak-'));
  try {
    // asc only looks for .ts entries.
    copyFileSync(join(here, 'peak', 'peak.as'), join(dir, 'peak.ts'));
    const out = join(dir, 'peak.wasm');
    const r = spawnSync(join(root, 'node_modules', '.bin', 'asc'), [join(dir, 'peak.ts'), ...FLAGS, '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`asc failed on bench/peak/peak.as:\n${r.stderr}${r.stdout}`);
    return readFileSync(out) as Uint8Array<ArrayBuffer>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type PeakFn = (iters: number, m: number, c: number) => number;

export class PeakMeter {
  private readonly rates: Record<Variant, number[]> = { chains12: [], split12: [] };

  private constructor(private readonly fns: Record<Variant, PeakFn>, private readonly iters: Record<Variant, number>) {}

  /** Compiles the kernel and sizes each loop to about sampleMs, so timer resolution and call overhead vanish. */
  static async create(sampleMs = 60): Promise<PeakMeter> {
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(compilePeak()), {});
    const fns = {} as Record<Variant, PeakFn>, iters = {} as Record<Variant, number>;
    for (const name of Object.keys(KERNELS) as Variant[]) {
      const fn = instance.exports[name] as PeakFn, k = KERNELS[name];
      let n = 1 << 16;
      fn(n, k.m, k.c);
      for (;;) {
        const t0 = performance.now();
        fn(n, k.m, k.c);
        const ms = performance.now() - t0;
        if (ms > sampleMs / 4 || n > 1 << 28) {
          iters[name] = Math.min(2 ** 31 - 1, Math.round((n * sampleMs) / Math.max(ms, 1e-3)));
          break;
        }
        n *= 4;
      }
      fns[name] = fn;
    }
    return new PeakMeter(fns, iters);
  }

  /** A few timed runs of each variant; cheap enough (≈ 0.4 s) to call between benchmark rows. */
  sample(reps = 3): void {
    for (let r = 0; r < reps; r++)
      for (const name of Object.keys(KERNELS) as Variant[]) {
        const k = KERNELS[name], n = this.iters[name];
        const t0 = performance.now();
        this.fns[name](n, k.m, k.c);
        this.rates[name].push(gflops(n * k.flopsPerIter, performance.now() - t0));
      }
  }

  get gflopsPerCore(): number {
    return round3(Math.max(...Object.values(this.rates).flat()));
  }

  summary(): PeakSummary {
    const variants: PeakSummary['variants'] = {};
    for (const [name, rates] of Object.entries(this.rates))
      variants[name] = { bestGflops: round3(Math.max(...rates)), medianGflops: round3(median(rates)), samples: rates.length };
    return {
      gflopsPerCore: this.gflopsPerCore,
      medianGflopsPerCore: Math.max(...Object.values(variants).map((v) => v.medianGflops)),
      variants,
      samplesGflops: Object.values(this.rates).flat().map(round3),
      flags: FLAGS,
      method: 'bench/peak/peak.as: 12 independent f32x4 chains, 8 flops per f32x4 mul+add pair, one thread; best sample over the whole run',
    };
  }
}
