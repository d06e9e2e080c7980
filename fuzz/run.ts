// Entry of `npm run fuzz -- --cases N [--seed S] [--jobs J]`: malformed model files through loadModel + sample + bitsPerDim (docs/fuzzing.md).
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { formatTable, writeJsonAtomic } from '../bench/lib/report.js';
import { parseBytes } from '../src/engine/budget.js';
import { repoRoot } from './bases.js';
import { mutationKinds } from './generate.js';
import { FAILURES, OUTCOMES, type Outcome } from './protocol.js';
import { DEFAULT_MEMORY_BUDGET, describeFailures, isFailure, mib, runFuzz, type FuzzReport } from './runner.js';

const int = (name: string, min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};

const program = new Command('npm run fuzz --')
  .description('Feeds seeded malformed model files to loadModel + sample + bitsPerDim, one worker process per job with a time and memory limit per case; exits 1 on any crash, hang, memory overrun, silent NaN/Inf, mismatched or wrongly accepted file, or JS-internal error text.')
  .option('-n, --cases <n>', 'number of cases', int('--cases', 1), 300)
  .option('-s, --seed <s>', 'seed: case i of seed s is always the same file', int('--seed', 0), 1)
  .option('-j, --jobs <j>', 'worker processes at once', int('--jobs', 1), 2)
  .option('--only <indices>', 'run only these case indices, e.g. 17,42 (reproduce a failure)', (v: string) => v.split(',').map((x) => int('--only', 0)(x.trim())))
  .option('--kind <kind>', `only this mutation kind: ${mutationKinds().join(', ')}`)
  .option('--memory-budget <bytes>', "the engine's memoryBudget in each case (e.g. 128M)", (v: string) => parseBytes(v, '--memory-budget'), DEFAULT_MEMORY_BUDGET)
  .option('--timeout <seconds>', 'per-case limit in CPU seconds (6× that in wall time) before a case is a hang', int('--timeout', 1), 10)
  .option('--out <file>', 'JSON report (default fuzz/results/<date>-seed<S>-n<N>.json)')
  .option('--save-failures <dir>', 'write the files of failing cases here')
  .option('--quiet', 'no progress bar')
  .parse();

const o = program.opts<{ cases: number; seed: number; jobs: number; only?: number[]; kind?: string; memoryBudget: number; timeout: number; out?: string; saveFailures?: string; quiet?: boolean }>();
if (o.kind && !mutationKinds().includes(o.kind)) program.error(`unknown --kind '${o.kind}' (known: ${mutationKinds().join(', ')})`);

const total = o.only?.length ?? o.cases;
const tty = !!process.stderr.isTTY && !o.quiet;
const bar = tty ? new cliProgress.SingleBar({ format: 'fuzz |{bar}| {value}/{total} | {failures} failures | {last} | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
let failures = 0;
console.log(`inflow fuzz: ${total} cases, seed ${o.seed}, ${o.jobs} jobs, memory budget ${mib(o.memoryBudget)}, ${o.timeout} s per case (calibrating the memory limit first)`);
bar?.start(total, 0, { failures: 0, last: '' });
const report = await runFuzz({
  cases: o.cases, seed: o.seed, jobs: o.jobs, only: o.only, kind: o.kind, memoryBudget: o.memoryBudget, timeoutMs: o.timeout * 1000, saveFailures: o.saveFailures,
  onResult: (r, done) => {
    if (isFailure(r.outcome)) failures++;
    if (bar) bar.update(done, { failures, last: `#${r.index} ${r.outcome}` });
    else if (!o.quiet && (done % Math.max(1, Math.round(total / 10)) === 0 || done === total)) console.log(`  ${done}/${total} cases, ${failures} failures`);
  },
});
bar?.stop();
print(report);
const date = new Date().toISOString().slice(0, 10);
const out = o.out ?? join(repoRoot, 'fuzz', 'results', `${date}-seed${o.seed}-n${report.cases}.json`);
writeJsonAtomic(out, report);
// The per-case results are megabytes; the summary beside them is small enough to commit as evidence.
const { results: _perCase, ...summary } = report;
const summaryOut = out.replace(/\.json$/, '') + '.summary.json';
writeJsonAtomic(summaryOut, summary);
console.log(`\nreport → ${out}\nsummary → ${summaryOut}`);
process.exit(report.failures ? 1 : 0);

function print(r: FuzzReport): void {
  const ml = r.memoryLimit;
  console.log(`\nmemory: ${ml.formula}${ml.peakResetWorks ? '' : ' — clear_refs did not reset VmHWM here: one worker per case'}`);
  console.log(formatTable({
    title: 'calibration (each base file unchanged)',
    header: ['base', 'file', 'peak RSS', 'outcome'],
    rows: ml.calibration.map((c) => [c.base, `${(c.fileBytes / 1024).toFixed(1)} KiB`, mib(c.peakBytes), c.outcome === 'accepted' ? 'accepted' : `${c.outcome}: ${c.message.slice(0, 100)}`]),
  }));
  const shown = OUTCOMES.filter((x) => r.counts[x] || x === 'rejected' || x === 'accepted');
  console.log(formatTable({
    title: `outcomes over ${r.cases} cases in ${r.wallSeconds} s (seed ${r.seed})`,
    header: ['outcome', 'cases', 'failure?'],
    rows: shown.map((x) => [x, r.counts[x], isFailure(x) ? 'FAIL' : '']),
    notes: [`rejected at: ${Object.entries(r.rejectedByStage).map(([s, n]) => `${s} ${n}`).join(', ') || '–'}; path-mode rejections not naming the file: ${r.rejectionsNotNamingFile}`],
  }));
  const cols: Outcome[] = ['rejected', 'accepted', ...FAILURES.filter((f) => r.counts[f])];
  console.log(formatTable({
    title: 'by mutation kind (a case with several mutations counts in each)',
    header: ['kind', ...cols],
    rows: Object.keys(r.byKind).sort().map((k) => [k, ...cols.map((c) => r.byKind[k]![c] ?? 0)]),
  }));
  const acc = Object.entries(r.acceptedByVariant).sort((a, b) => b[1] - a[1]);
  if (acc.length)
    console.log(formatTable({
      title: 'accepted (files the format cannot tell from valid ones), by mutation variant',
      header: ['variant', 'cases'],
      rows: acc,
    }));
  if (r.failureGroups.length) {
    console.log('\nfailure groups (outcome × message pattern), one example each:');
    for (const g of r.failureGroups)
      console.log(`  ${g.outcome} ×${g.count}: ${g.pattern}\n      e.g. #${g.example.index} [${g.example.base}] ${g.example.description.slice(0, 150)}\n      → ${g.example.stage ?? ''}: ${g.example.message.slice(0, 200)}`);
    console.log(`\n${describeFailures(r, 0).split('\n')[0]}`);
  } else console.log('\nno failures');
}
