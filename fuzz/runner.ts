/**
 * Runs fuzz cases in worker processes with a time and a memory limit per case, and sums them up.
 * Used by `npm run fuzz` (fuzz/run.ts) and the CI subset (tests/fuzz/model-files.test.ts).
 *
 * Memory: the parent polls each child's VmRSS and VmHWM in /proc every 20 ms and kills it above
 * the case's limit; the child resets VmHWM (/proc/self/clear_refs ← 5) before each case and
 * reports its VmHWM after it, so a peak between two polls is still seen and belongs to one case.
 * The limit is 2 × the file size + a fixed overhead: the peak RSS of a worker running a valid
 * tiny model (Node, the modules and one wasm engine, measured at the start of every run) plus the
 * memory budget the engine is given (what a valid file's activations may take) plus a slack for
 * the JS heap's drift over the cases a worker runs.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBases, repoRoot } from './bases.js';
import { generateCase, type BaseFile, type FuzzCase } from './generate.js';
import { FAILURES, OUTCOMES, type ChildCase, type ChildResult, type Outcome, type Probe, type ToParent } from './protocol.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Worker processes at once (default 2). */
  jobs?: number;
  /** The engine's memoryBudget in each case (default 128 MiB). */
  memoryBudget?: number;
  /** Per-case limit in CPU time (default 10 s; 6× in wall time): past it the worker is killed and the case is a hang. */
  timeoutMs?: number;
  /** Run only these case indices (reproducing a failure). */
  only?: number[];
  /** Only this mutation kind (each case then has one mutation). */
  kind?: string;
  /** Keep the files of failing cases here. */
  saveFailures?: string;
  /** A worker is replaced after this many cases, so heap drift stays inside the slack (default 50). */
  recycleEvery?: number;
  onResult?: (r: CaseRecord, done: number, total: number) => void;
}

export interface CaseRecord {
  index: number;
  base: string;
  kinds: string[];
  variants: string[];
  description: string;
  invalid: boolean;
  mode: 'path' | 'bytes';
  fileBytes: number;
  limitBytes: number;
  outcome: Outcome;
  stage?: ChildResult['stage'];
  message: string;
  errorName?: string;
  peakBytes: number;
  ms: number;
  /** Path mode: whether the message names the file. */
  namesFile?: boolean;
}

export interface FailureGroup { outcome: Outcome; pattern: string; count: number; example: CaseRecord }

export interface FuzzReport {
  seed: number;
  cases: number;
  jobs: number;
  node: string;
  memoryBudgetBytes: number;
  timeoutMs: number;
  memoryLimit: {
    formula: string;
    overheadBytes: number;
    tinyPeakBytes: number;
    slackBytes: number;
    calibration: Array<{ base: string; fileBytes: number; peakBytes: number; outcome: Outcome; message: string }>;
    peakResetWorks: boolean;
  };
  wallSeconds: number;
  counts: Record<Outcome, number>;
  failures: number;
  byKind: Record<string, Partial<Record<Outcome, number>>>;
  acceptedByVariant: Record<string, number>;
  rejectedByStage: Record<string, number>;
  /** Path-mode rejections whose message does not name the file. */
  rejectionsNotNamingFile: number;
  failureGroups: FailureGroup[];
  results: CaseRecord[];
}

const MiB = 2 ** 20;
export const DEFAULT_MEMORY_BUDGET = 128 * MiB;
const SLACK_BYTES = 48 * MiB;
const POLL_MS = 20;
const childPath = join(repoRoot, 'fuzz', 'child.ts');

export const isFailure = (o: Outcome): boolean => (FAILURES as readonly string[]).includes(o);
export const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

function procStatus(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) the process has used: a hang is measured in CPU, so a loaded machine does not make one. */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of proc(5), counted from after the command name; USER_HZ is 100 on Linux
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

type CaseOutcome = Pick<CaseRecord, 'outcome' | 'stage' | 'message' | 'errorName' | 'peakBytes' | 'ms'> & { healthy: boolean };

/** One worker process; replaced after a failure that killed it or left it suspect. */
class FuzzWorker {
  private proc: ChildProcess | null = null;
  private stderrTail = '';
  private casesRun = 0;
  peakResetWorks = true;

  constructor(private readonly recycleEvery: number) {}

  private async start(): Promise<ChildProcess> {
    this.stderrTail = '';
    const proc = fork(childPath, [], {
      cwd: repoRoot,
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    proc.stderr!.on('data', (d: Buffer) => { this.stderrTail = (this.stderrTail + d.toString()).slice(-4000); });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: ToParent): void => {
        if (m.type === 'ready') {
          proc.off('exit', onExit);
          proc.off('message', onMsg);
          resolve();
        }
      };
      const onExit = (code: number | null, signal: string | null): void =>
        reject(new Error(`fuzz worker failed to start (exit ${code ?? signal}): ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`));
      proc.on('message', onMsg);
      proc.once('exit', onExit);
    });
    this.casesRun = 0;
    this.proc = proc;
    return proc;
  }

  stop(): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    this.proc = null;
  }

  /**
   * Runs one case; the worker is killed at the memory limit, or as a hang past `timeoutMs` of CPU
   * time (or six times that in wall time, for a worker blocked without computing).
   */
  async run(c: ChildCase, limitBytes: number, timeoutMs: number, poll = true): Promise<CaseOutcome> {
    const proc = this.proc ?? (await this.start());
    const pid = proc.pid!;
    const t0 = performance.now();
    const cpu0 = cpuSeconds(pid) ?? 0;
    return new Promise<CaseOutcome>((resolve) => {
      let started = false, maxSeen = 0, done = false;
      const finish = (r: CaseOutcome): void => {
        if (done) return;
        done = true;
        clearInterval(poller);
        clearTimeout(timer);
        proc.off('message', onMsg);
        proc.off('exit', onExit);
        this.casesRun++;
        if (!r.healthy || this.casesRun >= this.recycleEvery || !this.peakResetWorks) this.stop();
        resolve(r);
      };
      const kill = (outcome: Outcome, message: string): void => {
        proc.kill('SIGKILL');
        finish({ outcome, message, peakBytes: maxSeen, ms: performance.now() - t0, healthy: false });
      };
      const poller = setInterval(() => {
        const cpu = cpuSeconds(pid);
        if (cpu !== null && (cpu - cpu0) * 1000 > timeoutMs) return kill('hang', `still running after ${timeoutMs / 1000} s of CPU time (killed)`);
        if (!poll) return;
        const s = procStatus(pid);
        if (!s) return;
        maxSeen = Math.max(maxSeen, s.rss, started ? s.hwm : 0);
        if (maxSeen > limitBytes) kill('memory', `peak RSS ${mib(maxSeen)} passed the limit of ${mib(limitBytes)} (killed)`);
      }, POLL_MS);
      const timer = setTimeout(() => kill('hang', `still running after ${(6 * timeoutMs) / 1000} s (killed)`), 6 * timeoutMs);
      const onMsg = (m: ToParent): void => {
        if (m.type === 'start' && m.index === c.index) {
          started = true;
          if (!m.clearRefs) this.peakResetWorks = false;
        } else if (m.type === 'result' && m.index === c.index) {
          const peak = Math.max(m.peakBytes, maxSeen);
          if (peak > limitBytes)
            finish({ outcome: 'memory', stage: m.stage, message: `peak RSS ${mib(peak)} passed the limit of ${mib(limitBytes)} (then: ${m.outcome}: ${m.message})`, peakBytes: peak, ms: m.ms, healthy: false });
          else finish({ outcome: m.outcome, stage: m.stage, message: m.message, errorName: m.errorName, peakBytes: peak, ms: m.ms, healthy: !isFailure(m.outcome) });
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        this.proc = null;
        const tail = this.stderrTail.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
        finish({ outcome: 'crash', message: `worker died (${signal ? `signal ${signal}` : `exit code ${code}`})${tail ? `: ${tail.slice(0, 400)}` : ''}`, peakBytes: maxSeen, ms: performance.now() - t0, healthy: false });
      };
      proc.on('message', onMsg);
      proc.once('exit', onExit);
      proc.send(c);
    });
  }
}

/** Numbers, quoted names and paths out, so one bug's messages make one group. */
export function messagePattern(message: string, tmp: string): string {
  return message
    .split(tmp).join('<dir>')
    .replace(/<dir>\/case-\d+\.safetensors/g, '<file>')
    .replace(/'[^']*'/g, "'…'")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\[[^\]]{40,}\]/g, '[…]')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N')
    .slice(0, 200);
}

function caseFor(fc: FuzzCase, path: string, memoryBudget: number): ChildCase {
  return { index: fc.index, path, mode: fc.mode, baseShape: fc.baseShape, invalid: fc.invalid, memoryBudget };
}

/** Generates and runs the cases, `jobs` at a time, and returns the report. */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const jobs = Math.max(1, opts.jobs ?? 2);
  const memoryBudget = opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const tmp = mkdtempSync(join(tmpdir(), 'inflow-fuzz-'));
  const workers = Array.from({ length: jobs }, () => new FuzzWorker(opts.recycleEvery ?? 50));
  try {
    const bases = await makeBases();
    const calibration = await calibrate(bases, workers[0]!, tmp, memoryBudget, timeoutMs);
    const tinyPeakBytes = Math.max(...calibration.filter((c) => c.base.startsWith('tiny')).map((c) => c.peakBytes));
    const overheadBytes = tinyPeakBytes + memoryBudget + SLACK_BYTES;
    const indices = opts.only ?? Array.from({ length: opts.cases }, (_, i) => i);
    const results: CaseRecord[] = [];
    let next = 0;
    const loop = async (w: FuzzWorker): Promise<void> => {
      while (next < indices.length) {
        const index = indices[next++]!;
        const fc = generateCase(bases, opts.seed, index, opts.kind);
        const path = fc.special === 'dev-zero' ? '/dev/zero' : join(tmp, `case-${index}.safetensors`);
        makeFile(path, fc);
        const limitBytes = 2 * fc.bytes.length + overheadBytes;
        const r = await w.run(caseFor(fc, path, memoryBudget), limitBytes, timeoutMs);
        const isControl = fc.kinds.length === 1 && fc.kinds[0] === 'control';
        const outcome: Outcome = r.outcome === 'rejected' && isControl ? 'rejected-valid' : r.outcome;
        const rec: CaseRecord = {
          index, base: fc.base, kinds: fc.kinds, variants: fc.variants, description: fc.description, invalid: fc.invalid, mode: fc.mode,
          fileBytes: fc.bytes.length, limitBytes, outcome, stage: r.stage, message: r.message.split(tmp).join('<dir>'), errorName: r.errorName,
          peakBytes: r.peakBytes, ms: Math.round(r.ms), ...(fc.mode === 'path' ? { namesFile: r.message.includes(path) } : {}),
        };
        if (isFailure(outcome) && opts.saveFailures) {
          mkdirSync(opts.saveFailures, { recursive: true });
          writeFileSync(join(opts.saveFailures, `seed${opts.seed}-case${index}.safetensors`), fc.bytes);
        }
        if (path.startsWith(tmp)) rmSync(path, { recursive: true, force: true });
        results.push(rec);
        opts.onResult?.(rec, results.length, indices.length);
      }
    };
    await Promise.all(workers.map(loop));
    results.sort((a, b) => a.index - b.index);
    return summarise(opts, jobs, memoryBudget, timeoutMs, tmp, { overheadBytes, tinyPeakBytes, calibration, peakResetWorks: workers.every((w) => w.peakResetWorks) }, results, t0);
  } finally {
    for (const w of workers) w.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes the case's file, or makes the special path it names. */
function makeFile(path: string, fc: FuzzCase): void {
  switch (fc.special) {
    case undefined: return writeFileSync(path, fc.bytes);
    case 'dev-zero': case 'missing': return;
    case 'symlink-dev-zero': return symlinkSync('/dev/zero', path);
    case 'directory': return mkdirSync(path);
    case 'fifo': return void execFileSync('mkfifo', [path]);
    case 'sparse-3g': {
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, fc.bytes);
        ftruncateSync(fd, 3 * 2 ** 30);
      } finally {
        closeSync(fd);
      }
    }
  }
}

/** Each base file, unchanged, in one worker: the peaks the overhead is taken from. */
async function calibrate(bases: BaseFile[], w: FuzzWorker, tmp: string, memoryBudget: number, timeoutMs: number): Promise<FuzzReport['memoryLimit']['calibration']> {
  const out: FuzzReport['memoryLimit']['calibration'] = [];
  // Tiny models first, in a fresh worker: a worker's RSS does not shrink back after the bundled model.
  for (const b of [...bases].sort((x, y) => Number(x.name === 'bundled') - Number(y.name === 'bundled'))) {
    const path = join(tmp, `base-${b.name}.safetensors`);
    writeFileSync(path, b.bytes);
    const r = await w.run({ index: -1, path, mode: 'path', baseShape: b.inputShape, invalid: false, memoryBudget }, 2 ** 31, timeoutMs);
    out.push({ base: b.name, fileBytes: b.bytes.length, peakBytes: r.peakBytes, outcome: r.outcome, message: r.message });
    rmSync(path, { force: true });
  }
  w.stop();
  return out;
}

function summarise(opts: FuzzOptions, jobs: number, memoryBudget: number, timeoutMs: number, tmp: string,
  limit: Omit<FuzzReport['memoryLimit'], 'formula' | 'slackBytes'>, results: CaseRecord[], t0: number): FuzzReport {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const byKind: FuzzReport['byKind'] = {};
  const acceptedByVariant: Record<string, number> = {};
  const rejectedByStage: Record<string, number> = {};
  let rejectionsNotNamingFile = 0;
  const groups = new Map<string, FailureGroup>();
  for (const r of results) {
    counts[r.outcome]++;
    for (const k of r.kinds) {
      const row = (byKind[k] ??= {});
      row[r.outcome] = (row[r.outcome] ?? 0) + 1;
    }
    if (r.outcome === 'accepted') for (const v of r.variants) acceptedByVariant[v] = (acceptedByVariant[v] ?? 0) + 1;
    if (r.outcome === 'rejected') {
      rejectedByStage[r.stage ?? 'load'] = (rejectedByStage[r.stage ?? 'load'] ?? 0) + 1;
      if (r.namesFile === false && r.stage === 'load') rejectionsNotNamingFile++;
    }
    if (isFailure(r.outcome)) {
      const pattern = messagePattern(r.message, tmp);
      const key = `${r.outcome}|${pattern}`;
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { outcome: r.outcome, pattern, count: 1, example: r });
    }
  }
  const failureGroups = [...groups.values()].sort((a, b) => a.outcome.localeCompare(b.outcome) || b.count - a.count);
  return {
    seed: opts.seed, cases: results.length, jobs, node: process.version, memoryBudgetBytes: memoryBudget, timeoutMs,
    memoryLimit: {
      ...limit, slackBytes: SLACK_BYTES,
      formula: `limit = 2 × file size + ${mib(limit.overheadBytes)} (valid tiny model's worker peak ${mib(limit.tinyPeakBytes)} + memory budget ${mib(memoryBudget)} + slack ${mib(SLACK_BYTES)})`,
    },
    wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
    counts, failures: FAILURES.reduce((s, f) => s + counts[f], 0), byKind, acceptedByVariant, rejectedByStage, rejectionsNotNamingFile, failureGroups, results,
  };
}

/**
 * Runs one harness self-test in a fresh worker with the given limits and returns its outcome:
 * allocate → memory, spike → memory, spin → hang, exit → crash, internal → internal-text. The
 * spike (twice the limit, then released) runs without polling: only the VmHWM the child reports
 * can catch it, which checks that peaks are reset and attributed per case.
 */
export async function runProbe(probe: Probe, limitBytes: number, timeoutMs: number): Promise<{ outcome: Outcome; message: string; peakBytes: number }> {
  const w = new FuzzWorker(1);
  try {
    const r = await w.run({ index: 0, path: '', mode: 'path', baseShape: [1, 8, 8], invalid: false, memoryBudget: 2 * limitBytes, probe }, limitBytes, timeoutMs, probe !== 'spike');
    return { outcome: r.outcome, message: r.message, peakBytes: r.peakBytes };
  } finally {
    w.stop();
  }
}

/** The first `n` failing cases, one line each, for a test's failure message. */
export function describeFailures(report: FuzzReport, n = 12): string {
  const failing = report.results.filter((r) => isFailure(r.outcome));
  const lines = failing.slice(0, n).map((r) =>
    `  #${r.index} ${r.outcome} [${r.base}, ${r.mode}] ${r.description.slice(0, 160)}\n      → ${r.stage ?? ''}: ${r.message.slice(0, 240)}`);
  const counts = FAILURES.filter((f) => report.counts[f]).map((f) => `${f} ${report.counts[f]}`).join(', ');
  return `${failing.length} of ${report.cases} fuzz cases failed (${counts}); reproduce one with npm run fuzz -- --seed ${report.seed} --only <index>\n${lines.join('\n')}`;
}
