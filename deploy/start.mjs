#!/usr/bin/env node
// Starts N `inflow serve` processes on loopback and HAProxy in front of them (the recipe of
// docs/scale-out.md), restarts a process that dies, and stops everything gracefully on SIGTERM.
//
//   node deploy/start.mjs --processes 2 --port 8080 -- --model mnist=models/finc-mnist.safetensors
//
// Everything after `--` goes to every `inflow serve`. Stdout gets one line once the whole cluster
// serves; stderr gets JSON log lines: the launcher's own, each server's (with "backend" added) and
// HAProxy's (with "source": "haproxy"). Plain Node, no dependencies, so it runs where inflow is installed.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// When whatever started the launcher goes away, its pipes close; the launcher must still stop its
// servers on SIGTERM rather than die of EPIPE on its next log line.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const here = dirname(fileURLToPath(import.meta.url));
const TEMPLATE = join(here, 'haproxy', 'inflow.cfg.template');
const DEFAULT_INFLOW = join(here, '..', 'src', 'cli', 'inflow.mjs');
const HELP = `usage: node deploy/start.mjs [options] -- <inflow serve options (--model name=path …)>

  --processes N       inflow serve processes (default 2)
  --host H            address HAProxy listens on (default 127.0.0.1)
  --port P            HAProxy's port (default 8080; 0 = any free port)
  --stats-port P      HAProxy's stats page (/stats) and Prometheus metrics (/metrics) on 127.0.0.1 (default 8404; 0 = any free port)
  --backend-ports L   comma-separated loopback ports of the processes (default: any free ports)
  --server-maxconn N  requests HAProxy sends one process at a time; it queues the rest (default 128)
  --haproxy PATH      the haproxy binary (default: haproxy on PATH, then /usr/sbin/haproxy)
  --inflow PATH       the inflow CLI entry, run with this node (default: this checkout's src/cli/inflow.mjs)
  --ready-timeout S   seconds a process may take to load and warm up (default 180)
  --no-restart        leave a process that died down instead of restarting it
  --print-config      print the HAProxy configuration (needs --backend-ports) and exit`;

class UsageError extends Error {}

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const serveArgs = dash < 0 ? [] : argv.slice(dash + 1);
  const o = {
    processes: 2, host: '127.0.0.1', port: 8080, statsPort: 8404, backendPorts: null, serverMaxconn: 128,
    haproxy: null, inflow: DEFAULT_INFLOW, readyTimeoutS: 180, restart: true, printConfig: false, serveArgs,
  };
  const int = (flag, v, min, max) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
      throw new UsageError(`${flag} takes an integer in ${min}…${max}, got ${v === undefined ? 'nothing' : `'${v}'`}`);
    return Number(v);
  };
  for (let i = 0; i < own.length; i++) {
    const a = own[i], v = own[i + 1];
    switch (a) {
      case '--processes': o.processes = int(a, v, 1, 64); i++; break;
      case '--host': if (!v) throw new UsageError('--host takes an address'); o.host = v; i++; break;
      case '--port': o.port = int(a, v, 0, 65535); i++; break;
      case '--stats-port': o.statsPort = int(a, v, 0, 65535); i++; break;
      case '--backend-ports': {
        if (!v) throw new UsageError('--backend-ports takes a comma-separated list of ports');
        o.backendPorts = v.split(',').map((p) => int(a, p.trim(), 1, 65535)); i++; break;
      }
      case '--server-maxconn': o.serverMaxconn = int(a, v, 1, 100000); i++; break;
      case '--haproxy': if (!v) throw new UsageError('--haproxy takes a path'); o.haproxy = v; i++; break;
      case '--inflow': if (!v) throw new UsageError('--inflow takes a path'); o.inflow = v; i++; break;
      case '--ready-timeout': o.readyTimeoutS = int(a, v, 1, 3600); i++; break;
      case '--no-restart': o.restart = false; break;
      case '--print-config': o.printConfig = true; break;
      case '-h': case '--help': console.log(HELP); process.exit(0); break;
      default: throw new UsageError(`unknown option '${a}' (options for inflow serve go after --)`);
    }
  }
  if (o.backendPorts && o.backendPorts.length !== o.processes)
    throw new UsageError(`--backend-ports lists ${o.backendPorts.length} ports for ${o.processes} processes`);
  // The launcher owns where the processes listen: loopback, so only HAProxy reaches them.
  const taken = serveArgs.find((a) => /^--(host|port)(=|$)/.test(a));
  if (taken) throw new UsageError(`${taken.split('=')[0]} after -- is set by the launcher (use --host/--port before --)`);
  if (!o.printConfig && !serveArgs.includes('--model') && !serveArgs.some((a) => a.startsWith('--model=')))
    throw new UsageError('no model: pass inflow serve options after --, e.g. -- --model mnist=models/finc-mnist.safetensors');
  return o;
}

/** HAProxy's `timeout server`: the servers' own request timeout plus a margin, so theirs fires first. */
function serverTimeoutMs(serveArgs) {
  const i = serveArgs.findIndex((a) => a === '--timeout-ms' || a.startsWith('--timeout-ms='));
  const v = i < 0 ? undefined : serveArgs[i].includes('=') ? serveArgs[i].split('=')[1] : serveArgs[i + 1];
  const ms = v !== undefined && /^\d+$/.test(v) ? Number(v) : 30000;
  return ms + 5000;
}

function renderConfig({ bind, statsBind, backendPorts, serverMaxconn, serverTimeoutMs: t }) {
  const servers = backendPorts.map((p, i) => `    server inflow${i + 1} 127.0.0.1:${p}`).join('\n');
  const fields = {
    bind, stats_bind: statsBind, servers, server_maxconn: String(serverMaxconn),
    server_timeout: `${t}ms`, hard_stop_after: `${t + 5000}ms`,
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (m, k) => {
    if (!(k in fields)) throw new Error(`${TEMPLATE}: unknown field ${m}`);
    return fields[k];
  });
}

function findHaproxy(given) {
  if (given) return given;
  for (const d of (process.env.PATH ?? '').split(delimiter).filter(Boolean).concat(['/usr/sbin', '/usr/local/sbin'])) {
    if (existsSync(join(d, 'haproxy'))) return join(d, 'haproxy');
  }
  throw new UsageError('haproxy not found on PATH or in /usr/sbin (apt-get install haproxy, or pass --haproxy PATH)');
}

/** Status of each server of the inflow backend (UP, DOWN, "UP 1/2" while going down, …) from the stats CSV. */
function serverStatus(csv) {
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const [px, sv, st] = ['pxname', 'svname', 'status'].map((n) => header.indexOf(n));
  const out = {};
  for (const row of lines.slice(1).map((l) => l.split(','))) if (row[px] === 'inflow' && /^inflow\d+$/.test(row[sv] ?? '')) out[row[sv]] = row[st];
  return out;
}

function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const log = (level, msg, fields = {}) => process.stderr.write(`${JSON.stringify({ level, time: Date.now(), source: 'launcher', msg, ...fields })}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Each line of a child's stderr as one JSON log line, tagged with where it came from. */
function relay(stream, tag, onLine = () => {}) {
  createInterface({ input: stream }).on('line', (line) => {
    if (!line.trim()) return;
    onLine(line);
    let obj;
    try { obj = JSON.parse(line); } catch { obj = null; }
    process.stderr.write(`${JSON.stringify(obj && typeof obj === 'object' && !Array.isArray(obj) ? { ...tag, ...obj } : { ...tag, msg: line })}\n`);
  });
}

/** HAProxy in the foreground prints each event twice: as `[WARNING]  (pid) : text`, then as the
 *  `log stderr` line; one JSON line each, with its level. */
function relayHaproxy(stream) {
  let last = '';
  createInterface({ input: stream }).on('line', (line) => {
    const m = /^\[(\w+)\]\s+\(\d+\)\s*:\s*(.*)$/.exec(line);
    const msg = m ? m[2] : line.trim();
    if (!msg || msg === last) return;
    last = msg;
    process.stderr.write(`${JSON.stringify({ level: m ? m[1].toLowerCase() : 'notice', time: Date.now(), source: 'haproxy', msg })}\n`);
  });
}

class Backend {
  constructor(index, opts) {
    this.name = `inflow${index + 1}`;
    this.opts = opts;
    this.port = opts.backendPorts ? opts.backendPorts[index] : 0;
    this.child = null;
    this.lastLine = '';
    this.restarts = 0;
  }

  /** Starts the process; resolves with its port once it prints its listening line. */
  start() {
    const args = [this.opts.inflow, 'serve', '--host', '127.0.0.1', '--port', String(this.port), ...this.opts.serveArgs];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    relay(child.stderr, { backend: this.name, pid: child.pid }, (l) => { this.lastLine = l; });
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const m = /listening on http:\/\/[^\s]*:(\d+)/.exec(line);
        if (m) { this.port = Number(m[1]); resolve(this.port); } else if (line.trim()) log('info', line, { backend: this.name });
      });
      child.once('exit', (code, signal) => reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it listened: ${this.reason()}`)));
      child.once('error', (e) => reject(new Error(`${this.name} could not start: ${e.message}`)));
    });
  }

  /** The server's own last words, when it logged any: its JSON "msg", else the raw line. */
  reason() {
    try { const o = JSON.parse(this.lastLine); return o.msg ?? o.err?.message ?? this.lastLine; } catch { return this.lastLine || 'no output'; }
  }

  /** Polls GET /readyz on the process itself until 200, or it dies, or the deadline passes. */
  async ready(deadline) {
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`${this.name} exited (${this.child.signalCode ?? `code ${this.child.exitCode}`}) before it was ready: ${this.reason()}`);
      try {
        const r = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        if (r.status === 200) return;
      } catch { /* not listening yet, or busy warming up */ }
      await sleep(200);
    }
    throw new Error(`${this.name} was not ready within ${this.opts.readyTimeoutS} s`);
  }
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function stopChild(child, signal, graceMs) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

async function run() {
  const o = parseArgs(process.argv.slice(2));
  const timeoutMs = serverTimeoutMs(o.serveArgs);
  if (o.printConfig) {
    if (!o.backendPorts) throw new UsageError('--print-config needs --backend-ports');
    process.stdout.write(renderConfig({
      bind: `${o.host}:${o.port}`, statsBind: `127.0.0.1:${o.statsPort}`, backendPorts: o.backendPorts,
      serverMaxconn: o.serverMaxconn, serverTimeoutMs: timeoutMs,
    }));
    return 0;
  }
  const haproxyBin = findHaproxy(o.haproxy);
  if (!existsSync(o.inflow)) throw new UsageError(`--inflow ${o.inflow}: no such file`);
  const port = o.port || await freePort(o.host);
  const statsPort = o.statsPort || await freePort('127.0.0.1');

  let stopping = false;
  let haproxy = null;
  const backends = Array.from({ length: o.processes }, (_, i) => new Backend(i, o));
  const dir = mkdtempSync(join(tmpdir(), 'inflow-cluster-'));

  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping: HAProxy first (no new requests), then the servers finish what they hold');
    // SIGUSR1 is HAProxy's soft stop: it closes its listener and waits for in-flight requests.
    await stopChild(haproxy, 'SIGUSR1', timeoutMs + 10000);
    await Promise.all(backends.map((b) => stopChild(b.child, 'SIGTERM', timeoutMs + 10000)));
    rmSync(dir, { recursive: true, force: true });
    log('info', 'stopped');
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));

  /** Restarts a process that died, on the same port: HAProxy's configuration names it, and its
   *  checks bring the process back into the rotation once /readyz answers 200. */
  const supervise = async (b) => {
    for (;;) {
      await exited(b.child);
      if (stopping) return;
      const { exitCode: code, signalCode: signal, pid } = b.child;
      log('warn', 'server exited', { backend: b.name, pid, code, signal, reason: b.reason() });
      if (!o.restart) return;
      // Back off when it dies again soon after a start (a bad model file, a port someone took).
      const early = Date.now() - b.startedAt < 60000;
      b.restarts = early ? b.restarts + 1 : 0;
      await sleep(Math.min(30000, 500 * 2 ** b.restarts));
      if (stopping) return;
      try {
        await b.start();
        log('info', 'server restarted', { backend: b.name, pid: b.child.pid, port: b.port });
      } catch (e) {
        if (!stopping) log('error', e.message, { backend: b.name });
      }
    }
  };

  try {
    await Promise.all(backends.map((b) => b.start()));
    const deadline = Date.now() + o.readyTimeoutS * 1000;
    await Promise.all(backends.map((b) => b.ready(deadline)));
  } catch (e) {
    await Promise.all(backends.map((b) => stopChild(b.child, 'SIGTERM', 5000)));
    rmSync(dir, { recursive: true, force: true });
    throw new UsageError(e.message);
  }
  for (const b of backends) {
    log('info', 'server ready', { backend: b.name, pid: b.child.pid, port: b.port });
    void supervise(b);
  }

  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, renderConfig({
    bind: `${o.host}:${port}`, statsBind: `127.0.0.1:${statsPort}`, backendPorts: backends.map((b) => b.port),
    serverMaxconn: o.serverMaxconn, serverTimeoutMs: timeoutMs,
  }));
  // -db: stay in the foreground, so this process supervises it and gets its messages.
  haproxy = spawn(haproxyBin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  relayHaproxy(haproxy.stdout);
  relayHaproxy(haproxy.stderr);
  haproxy.once('exit', (code, signal) => {
    if (stopping) return;
    log('error', `HAProxy exited (${signal ?? `code ${code}`}); stopping the servers`);
    void shutdown(1);
  });
  haproxy.once('error', (e) => { log('error', `HAProxy could not start: ${e.message}`); void shutdown(1); });

  // Ready once HAProxy's own first check of every server has passed (before it, a server shows
  // as "UP 1/2": not yet checked).
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const status = serverStatus(await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text());
      if (backends.every((b) => status[b.name] === 'UP')) break;
    } catch { /* not listening yet */ }
    if (stopping) return 1;
    if (Date.now() > deadline) { log('error', 'HAProxy did not mark every server up within 15 s'); await shutdown(1); }
    await sleep(100);
  }
  log('info', 'cluster ready', { port, statsPort, config: cfg, servers: backends.map((b) => ({ backend: b.name, pid: b.child.pid, port: b.port })) });
  console.log(`inflow cluster: listening on http://${o.host}:${port} (${o.processes} inflow serve processes; HAProxy stats http://127.0.0.1:${statsPort}/stats)`);
  return null;
}

try {
  const code = await run();
  if (code !== null) process.exit(code);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`inflow cluster: ${e.message}`);
  process.exit(2);
}
