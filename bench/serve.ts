// `serve` suite: `inflow serve` on the bundled flow (models/finc-mnist.safetensors), loaded over
// loopback by autocannon: requests/s and p50/p99 latency of /score (one 28×28 PNG) and /sample
// (n = 16) at 1, 8 and 64 concurrent connections, dynamic batching on and off, every point run
// twice; then the server's memory after 1 000 and after 10 000 requests.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { mnistSplit } from '../src/data/mnist.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';

const CLI = fileURLToPath(new URL('../src/cli/inflow.mjs', import.meta.url));
const MODEL = fileURLToPath(new URL('../models/finc-mnist.safetensors', import.meta.url));
const CONNECTIONS = [1, 8, 64];
const SAMPLE_N = 16;

const PLAN = {
  full: { runs: 2, windowS: 6, memory: [1000, 10000], memoryConnections: 16 },
  quick: { runs: 1, windowS: 1, memory: [100, 500], memoryConnections: 16 },
};
/**
 * A point's clock starts once every connection has had an answer (the queue the first burst built
 * is then in its steady state, so latencies are those of sustained load), but after at most this.
 */
const SETTLE_CAP_S = 60;

interface Server { url: string; pid: number; child: ChildProcess; args: string[]; log: string[] }

async function startServer(extra: string[]): Promise<Server> {
  const args = ['serve', '--model', `mnist=${MODEL}`, '--port', '0', ...extra];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => { log.push(l); if (log.length > 50) log.shift(); });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`inflow serve exited with code ${code} before it listened:\n${log.join('\n')}`)));
  });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/readyz`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* warming up */ }
    if (Date.now() > deadline) throw new Error(`inflow serve ${args.join(' ')} was not ready within 180 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid!, child, args, log };
}

async function stopServer(s: Server): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** VmRSS and VmHWM (peak) of a process, MiB, from /proc (Linux); null elsewhere. */
function procMemory(pid: number): { rssMiB: number; peakRssMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: sig(kb('VmRSS') / 1024, 4), peakRssMiB: sig(kb('VmHWM') / 1024, 4) };
  } catch {
    return null;
  }
}

/** The server's Prometheus text as name{labels} → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?)(\{.*\})?\s+(\S+)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** Sum of every series of a metric (all label sets), or null when the server has no such metric. */
const total = (metrics: Map<string, number>, name: RegExp): number | null => {
  let sum: number | null = null;
  for (const [k, v] of metrics) if (name.test(k.replace(/\{.*$/, ''))) sum = (sum ?? 0) + v;
  return sum;
};

interface Endpoint { id: 'score' | 'sample'; label: string; request: { method: string; path: string; headers: Record<string, string>; body: string | Buffer } }

async function endpoints(): Promise<Endpoint[]> {
  const { test } = mnistSplit();
  const png = await sharp(Buffer.from(test.images.subarray(0, 784)), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
  return [
    { id: 'score', label: `/score (one 28×28 PNG, ${png.length} B)`, request: { method: 'POST', path: '/v1/models/mnist/score', headers: { 'content-type': 'image/png' }, body: png } },
    { id: 'sample', label: `/sample (n = ${SAMPLE_N}, PNG grid)`, request: { method: 'POST', path: '/v1/models/mnist/sample', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: SAMPLE_N }) } },
  ];
}

/** Waits until the requests a finished point left queued are done: one more request queues behind them. */
async function drain(url: string, e: Endpoint): Promise<void> {
  const { body } = e.request;
  const r = await fetch(`${url}${e.request.path}`, { method: 'POST', headers: e.request.headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  await r.arrayBuffer();
}

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

interface Point {
  endpoint: Endpoint['id']; batching: boolean; connections: number; run: number;
  requestsPerSecond: number; p50Ms: number; p99Ms: number; meanMs: number; answered: number; failed: number;
  windowS: number; settleS: number; meanBatch: number | null; loadAvgBefore: number[]; loadAvgAfter: number[];
}

/** One point: a steady stream from `connections` clients; counts only what is answered in the window. */
async function measure(server: Server, e: Endpoint, connections: number, windowS: number): Promise<Omit<Point, 'batching' | 'run'>> {
  const loadAvgBefore = os.loadavg().map((l) => sig(l, 3));
  const before = await scrape(server.url);
  const answers: Array<{ at: number; status: number; ms: number }> = [];
  let errors = 0;
  const t0 = Date.now();
  let windowStart = 0;
  const { path, ...request } = e.request;
  const inst = autocannon({ url: `${server.url}${path}`, connections, duration: SETTLE_CAP_S + windowS + 30, timeout: 120, ...request });
  const stopAt = new Promise<void>((resolve) => {
    inst.on('response', (_c, status, _b, ms) => {
      const now = Date.now();
      answers.push({ at: now, status, ms });
      if (!windowStart && (answers.length >= connections && now - t0 >= 1000 || now - t0 >= SETTLE_CAP_S * 1000)) {
        windowStart = now;
        setTimeout(resolve, windowS * 1000);
      }
    });
    inst.on('reqError', () => { errors++; });
  });
  await Promise.race([stopAt, inst.then(() => undefined)]);
  const windowEnd = Date.now();
  inst.stop();
  await inst;
  await drain(server.url, e);
  const after = await scrape(server.url);
  const inWindow = answers.filter((a) => a.at > windowStart && a.at <= windowEnd);
  const ok = inWindow.filter((a) => a.status >= 200 && a.status < 300);
  const lat = ok.map((a) => a.ms).sort((a, b) => a - b);
  const seconds = (windowEnd - windowStart) / 1000;
  // Mean images per engine call, from the server's batch-size histogram (the drain request included).
  const sum = /^inflow_batch_size_images_sum$/, count = /^inflow_batch_size_images_count$/;
  const batchSum = total(after, sum), batchCount = total(after, count);
  const batchSum0 = total(before, sum) ?? 0, batchCount0 = total(before, count) ?? 0;
  const meanBatch = batchSum !== null && batchCount !== null && batchCount > batchCount0 ? sig((batchSum - batchSum0) / (batchCount - batchCount0), 3) : null;
  return {
    endpoint: e.id, connections,
    requestsPerSecond: sig(ok.length / seconds, 4),
    p50Ms: Math.round(percentile(lat, 50)), p99Ms: Math.round(percentile(lat, 99)),
    meanMs: Math.round(lat.reduce((s, x) => s + x, 0) / Math.max(1, lat.length)),
    answered: ok.length, failed: inWindow.length - ok.length + errors,
    windowS: sig(seconds, 3), settleS: sig((windowStart - t0) / 1000, 3), meanBatch,
    loadAvgBefore, loadAvgAfter: os.loadavg().map((l) => sig(l, 3)),
  };
}

/** A fixed number of requests, /score and /sample alternating, from `connections` clients. */
async function load(server: Server, eps: Endpoint[], amount: number, connections: number): Promise<{ answered: number; failed: number; seconds: number }> {
  const t0 = Date.now();
  const r = await autocannon({ url: server.url, connections, amount, timeout: 120, requests: eps.map((e) => e.request) });
  const answered = Object.entries(r.statusCodeStats).filter(([c]) => c.startsWith('2')).reduce((s, [, v]) => s + v.count, 0);
  return { answered, failed: amount - answered, seconds: sig((Date.now() - t0) / 1000, 3) };
}

async function memorySnapshot(server: Server, requests: number) {
  // Idle a moment first, so the numbers are the server at rest, not mid-batch.
  await new Promise((r) => setTimeout(r, 2000));
  const m = await scrape(server.url);
  const pick = (re: RegExp) => { const v = total(m, re); return v === null ? null : sig(v / 2 ** 20, 4); };
  return {
    requests, ...procMemory(server.pid),
    heapUsedMiB: pick(/^nodejs_heap_size_used_bytes$/),
    engineMiB: pick(/^inflow_engine_memory_bytes$/),
    processRssMiB: pick(/^process_resident_memory_bytes$/),
    loadAvg: os.loadavg().map((l) => sig(l, 3)),
  };
}

async function run(ctx: SuiteContext) {
  const plan = ctx.quick ? PLAN.quick : PLAN.full;
  const eps = await endpoints();
  const modes = [{ batching: true, args: [] as string[] }, { batching: false, args: ['--no-batching'] }];
  const points: Point[] = [];
  const servers: Record<string, string[]> = {};
  console.log(`\nserve: ${plan.runs} run(s) × 2 endpoints × ${CONNECTIONS.length} concurrencies × batching on/off, ${plan.windowS} s windows`);
  // Runs alternate between the two servers, so a change in the machine's load hits both modes alike.
  const started = await Promise.all(modes.map((m) => startServer(m.args)));
  try {
    for (let r = 1; r <= plan.runs; r++) {
      for (const [i, mode] of modes.entries()) {
        const server = started[i]!;
        servers[mode.batching ? 'on' : 'off'] = server.args;
        for (const e of eps) {
          for (const c of CONNECTIONS) {
            const p = { ...(await measure(server, e, c, plan.windowS)), batching: mode.batching, run: r };
            points.push(p);
            console.log(`  run ${r} batching ${mode.batching ? 'on ' : 'off'} ${e.id.padEnd(6)} c=${String(c).padEnd(2)}  ${String(p.requestsPerSecond).padStart(6)} req/s  p50 ${p.p50Ms} ms  p99 ${p.p99Ms} ms  (${p.answered} answered, ${p.failed} failed, mean batch ${p.meanBatch ?? '–'}, load ${p.loadAvgAfter[0]})`);
            ctx.peak.sample(1);
          }
        }
      }
    }
  } finally {
    await Promise.all(started.map(stopServer));
  }

  // Memory: a fresh server (batching on), a mixed stream; resident memory after the first
  // `memory[0]` requests and after `memory[1]` in all.
  const [first, all] = plan.memory as [number, number];
  const mem = await startServer([]);
  const memory: Record<string, unknown> = { server: mem.args, connections: plan.memoryConnections, startup: await memorySnapshot(mem, 0) };
  try {
    const a = await load(mem, eps, first, plan.memoryConnections);
    const afterFirst = await memorySnapshot(mem, first);
    console.log(`  memory: ${first} requests (${a.answered} answered) in ${a.seconds} s → RSS ${afterFirst.rssMiB} MiB`);
    const b = await load(mem, eps, all - first, plan.memoryConnections);
    const afterAll = await memorySnapshot(mem, all);
    console.log(`  memory: ${all} requests (${a.answered + b.answered} answered) in ${sig(a.seconds + b.seconds, 3)} s → RSS ${afterAll.rssMiB} MiB`);
    Object.assign(memory, {
      afterFirst, afterAll, answered: a.answered + b.answered, failed: a.failed + b.failed, seconds: sig(a.seconds + b.seconds, 4),
      rssGrowth: afterFirst.rssMiB && afterAll.rssMiB ? sig(afterAll.rssMiB / afterFirst.rssMiB - 1, 3) : null,
    });
  } finally {
    memory.exitCode = await stopServer(mem);
  }

  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rate = (e: string, c: number, batching: boolean) =>
    mean(points.filter((p) => p.endpoint === e && p.connections === c && p.batching === batching).map((p) => p.requestsPerSecond));
  const ratios = eps.flatMap((e) => CONNECTIONS.map((c) => ({ endpoint: e.id, connections: c, onOverOff: sig(rate(e.id, c, true) / rate(e.id, c, false), 3) })));
  const target = ratios.find((r) => r.endpoint === 'score' && r.connections === 64)!.onOverOff;
  const growth = memory.rssGrowth as number | null;

  const runs = (e: string, c: number, batching: boolean, k: keyof Point) =>
    points.filter((p) => p.endpoint === e && p.connections === c && p.batching === batching).map((p) => String(p[k] ?? '–')).join(' / ');
  const tables: Table[] = [{
    title: `inflow serve, bundled flow (${eps.map((e) => e.label).join(', ')}): req/s and latency, ${plan.runs === 1 ? 'one run' : `runs ${Array.from({ length: plan.runs }, (_, i) => i + 1).join(' / ')}`}`,
    header: ['endpoint', 'conns', 'batching', 'req/s', 'p50 ms', 'p99 ms', 'mean batch', 'load 1m after', 'on ÷ off'],
    rows: eps.flatMap((e) => CONNECTIONS.flatMap((c) => [true, false].map((b) => [
      e.id, c, b ? 'on' : 'off', runs(e.id, c, b, 'requestsPerSecond'), runs(e.id, c, b, 'p50Ms'), runs(e.id, c, b, 'p99Ms'),
      runs(e.id, c, b, 'meanBatch'), points.filter((p) => p.endpoint === e.id && p.connections === c && p.batching === b).map((p) => p.loadAvgAfter[0]).join(' / '),
      b ? ratios.find((r) => r.endpoint === e.id && r.connections === c)!.onOverOff : '',
    ]))),
    notes: [
      `target: batching on ≥ 2× off for /score at 64 connections: ${target}× (${target >= 2 ? 'met' : 'missed'})`,
      `memory: RSS ${(memory.afterFirst as { rssMiB?: number } | undefined)?.rssMiB ?? '–'} MiB after ${first} requests, ${(memory.afterAll as { rssMiB?: number } | undefined)?.rssMiB ?? '–'} MiB after ${all}: ${growth === null ? '–' : `${(growth * 100).toFixed(1)} %`} (target within 10 %: ${growth !== null && Math.abs(growth) <= 0.1 ? 'met' : 'missed'})`,
      `server: inflow serve ${servers.on?.join(' ') ?? ''} (off: --no-batching), a child process on loopback; autocannon in this process; ${os.availableParallelism()} cores shared with other work (load averages per point in the JSON)`,
    ],
  }];
  return { tables, data: { connections: CONNECTIONS, sampleN: SAMPLE_N, windowS: plan.windowS, servers, points, ratios, scoreC64OnOverOff: target, memory } };
}

export const serveBench: Suite = {
  name: 'serve',
  about: 'inflow serve on the bundled flow: /score and /sample req/s, p50/p99 at 1/8/64 connections, batching on/off; memory after 1k/10k requests → serve.json',
  run,
};
