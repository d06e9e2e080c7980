// `inflow serve` as a process on real sockets: the listening line, the JSON log, two workers giving
// identical seeded samples, clients that disconnect mid-request, command-line mistakes and the
// graceful shutdown on SIGTERM. One server process for the file; the shutdown test ends it.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { loadModel } from '../../src/io/model-file.js';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { bundledModel, logLines, metric, startServe, type ServeProcess } from './helpers.js';

let server: ServeProcess;

beforeAll(async () => {
  server = await startServe(['--model', `mnist=${bundledModel}`, '--workers', '2', '--no-batching']);
});

afterAll(() => {
  if (server && server.proc.exitCode === null) server.proc.kill('SIGKILL');
});

const sample = (body: unknown): Promise<Response> =>
  fetch(`${server.url}/v1/models/mnist/sample`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Polls /metrics until `ok` holds for its text. */
async function until(ok: (metrics: string) => boolean): Promise<void> {
  for (;;) {
    if (ok(await (await fetch(`${server.url}/metrics`)).text())) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The log lines once `ok` holds for them: a line is written after its response, so it may arrive just after it. */
async function logWhen(ok: (lines: Array<Record<string, unknown>>) => boolean): Promise<Array<Record<string, unknown>>> {
  for (;;) {
    const lines = logLines(server.stderr());
    if (ok(lines)) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes raw HTTP, then closes the socket after `after` resolves, without reading the answer. */
async function hangUp(raw: string, after: () => Promise<void>): Promise<void> {
  const socket = connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(raw);
  await after();
  socket.destroy();
}

describe('a server process', () => {
  test('it prints one listening line, logs JSON lines on stderr, and both workers are ready', async () => {
    const r = await fetch(`${server.url}/readyz`);
    expect(await r.json()).toEqual({ status: 'ready', workers: 2 });
    const lines = await logWhen((ls) => ls.some((l) => l.msg === 'ready'));
    expect(lines.find((l) => l.msg === 'ready')).toMatchObject({ workers: 2, backend: 'wasm', models: ['mnist'] });
  });

  test('a seeded sample is identical from either worker and equal to the library\'s', async () => {
    // Four at once with batching off: both workers take some.
    const body = { n: 3, seed: 42, temperature: 0.8, format: 'f32' };
    const rs = await Promise.all([sample(body), sample(body), sample(body), sample(body)]);
    const bytes = await Promise.all(rs.map(async (r) => Buffer.from(await r.arrayBuffer())));
    for (const b of bytes) expect(Buffer.compare(b, bytes[0]!)).toBe(0);
    const engine = await createEngine({ backend: 'wasm' });
    const model = await loadModel(bundledModel, { engine });
    const x = await model.sample(3, { seed: 42, temperature: 0.8 });
    const want = Float32Array.from(await x.data(), (u) => Math.min(255, Math.max(0, u - 0.5)));
    engine.dispose();
    expect(Array.from(new Float32Array(bytes[0]!.buffer, bytes[0]!.byteOffset, bytes[0]!.length / 4))).toEqual(Array.from(want));
  });

  test('each request is one JSON log line with method, url, status and time', async () => {
    const isSample = (l: Record<string, unknown>): boolean => l.msg === 'request' && l.url === '/v1/models/mnist/sample';
    const before = logLines(server.stderr()).filter(isSample).length;
    await sample({ n: 1, seed: 7 });
    await sample({ n: 0 });
    const lines = (await logWhen((ls) => ls.filter(isSample).length === before + 2)).filter(isSample);
    expect(lines.at(-2)).toMatchObject({ level: 30, method: 'POST', statusCode: 200, model: 'mnist', endpoint: 'sample', images: 1 });
    expect(lines.at(-1)).toMatchObject({ statusCode: 400, error: 'sample: n = 0 must be a positive integer' });
    expect(typeof lines.at(-1)!.ms).toBe('number');
  });

  test('a client that disconnects mid-body, or while its sample runs, costs the server nothing', async () => {
    const before = (await (await fetch(`${server.url}/metrics`)).text());
    const aborted = (text: string) => (metric(text, 'inflow_http_requests_total', { method: 'POST', route: '/v1/models/:name/score', status: '499' }) ?? 0)
      + (metric(text, 'inflow_http_requests_total', { method: 'POST', route: '/v1/models/:name/sample', status: '499' }) ?? 0);
    // Half a body, promised at 100 000 bytes.
    await hangUp('POST /v1/models/mnist/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"pixels":[1,2,',
      () => until((m) => (metric(m, 'inflow_requests_in_flight') ?? 0) >= 2));
    await until((m) => aborted(m) - aborted(before) === 1 && metric(m, 'inflow_requests_in_flight') === 1);
    // A whole request, abandoned while a worker samples it (a second or more on one thread).
    const body = JSON.stringify({ n: 128, format: 'f32' });
    await hangUp(`POST /v1/models/mnist/sample HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      () => until((m) => (metric(m, 'inflow_requests_in_flight') ?? 0) >= 2));
    await until((m) => aborted(m) - aborted(before) === 2 && metric(m, 'inflow_requests_in_flight') === 1);
    const ok = await sample({ n: 2, seed: 1, format: 'json' });
    expect(ok.status).toBe(200);
    const gone = (await logWhen((ls) => ls.filter((l) => l.statusCode === 499).length === 2)).filter((l) => l.statusCode === 499);
    expect(gone.map((l) => l.url)).toEqual(['/v1/models/mnist/score', '/v1/models/mnist/sample']);
  });

  test('a second server on the same port exits 2 with one line', () => {
    expectOneLine(runCli(process.cwd(), ['serve', '--model', `m=${bundledModel}`, '--port', String(server.port)]),
      new RegExp(`^inflow: cannot listen on 127\\.0\\.0\\.1:${server.port}: the port is in use$`));
  });

  test('SIGTERM: the request in flight completes 200, new connections are refused, the process exits 0', async () => {
    const slow = sample({ n: 256, seed: 3 });
    await until((m) => (metric(m, 'inflow_requests_in_flight') ?? 0) >= 2);
    server.proc.kill('SIGTERM');
    // The listening socket closes at once; the slow sample takes seconds more.
    for (;;) {
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect(server.port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(false); });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
      });
      if (refused) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await slow;
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await r.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await server.exited).toBe(0);
    const lines = logLines(server.stderr());  // complete: the process has exited
    expect(lines.some((l) => /^SIGTERM: refusing new connections/.test(String(l.msg)))).toBe(true);
    expect(lines.at(-1)!.msg).toBe('shut down');
  });
});

describe('command-line mistakes: exit 2 with one line', () => {
  test('no --model', () => {
    expectOneLine(runCli(process.cwd(), ['serve']), /^inflow: required option '--model <name=file>' not specified$/);
  });

  test('a --model without a name, or with a name not fit for a URL', () => {
    expectOneLine(runCli(process.cwd(), ['serve', '--model', bundledModel]), /^inflow: option '--model <name=file>' argument .* is invalid\. expected <name>=<file>/);
    expectOneLine(runCli(process.cwd(), ['serve', '--model', `a/b=${bundledModel}`]), /the name 'a\/b' must be letters, digits/);
  });

  test('a model file that is missing, and the same name twice', () => {
    expectOneLine(runCli(process.cwd(), ['serve', '--model', 'm=/nonexistent/x.safetensors']), /^inflow: --model m=\/nonexistent\/x\.safetensors: \/nonexistent\/x\.safetensors: model file not found$/);
    expectOneLine(runCli(process.cwd(), ['serve', '--model', `m=${bundledModel}`, '--model', `m=${bundledModel}`]), /the name 'm' is given twice/);
  });
});
