// Dynamic batching, the bounded queue and the per-request timeout, in-process. A batched request's
// result must be bit for bit the result it gets alone, so every comparison here is exact.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, defaults, type InflowServer, type ServerOptions } from '../../src/serve/server.js';
import { bundledModel, metric } from './helpers.js';

const options = (over: Partial<ServerOptions>): ServerOptions => ({
  ...defaults, models: [{ name: 'mnist', path: bundledModel }], engine: { backend: 'wasm', threads: 1 }, logger: false, ...over,
});

// A long delay makes concurrent requests meet in one batch whatever the machine's speed.
let batched: InflowServer;
let single: InflowServer;
let small: InflowServer;

beforeAll(async () => {
  [batched, single, small] = await Promise.all([
    createServer(options({ maxDelayMs: 1000, maxBatch: 16 })),
    createServer(options({ batching: false })),
    createServer(options({ maxDelayMs: 0, queue: 1, timeoutMs: 250 })),
  ]);
  await Promise.all([batched.ready, single.ready, small.ready]);
});

afterAll(async () => {
  await Promise.all([batched?.close(), single?.close(), small?.close()]);
});

const post = (server: InflowServer, endpoint: string, body: unknown) =>
  server.app.inject({ method: 'POST', url: `/v1/models/mnist/${endpoint}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

const metrics = async (server: InflowServer): Promise<string> => (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
const batches = async (server: InflowServer, endpoint: string) => {
  const text = await metrics(server);
  const labels = { model: 'mnist', endpoint };
  return { count: metric(text, 'inflow_batch_size_requests_count', labels) ?? 0, requests: metric(text, 'inflow_batch_size_requests_sum', labels) ?? 0, images: metric(text, 'inflow_batch_size_images_sum', labels) ?? 0 };
};

/** Images that differ from request to request: a disc of radius r. */
const disc = (r: number): number[] => Array.from({ length: 784 }, (_, p) => (((p % 28) - 14) ** 2 + (Math.floor(p / 28) - 14) ** 2 < r * r ? 220 : 5));

describe('dynamic batching', () => {
  test('concurrent score requests share one batch, and each gets exactly its result alone', async () => {
    const bodies = [{ pixels: disc(4) }, { pixels: [...disc(6), ...disc(8)] }, { pixels: disc(10) }, { pixels: disc(3) }];
    const before = await batches(batched, 'score');
    const together = await Promise.all(bodies.map((b) => post(batched, 'score', b)));
    const after = await batches(batched, 'score');
    expect({ count: after.count - before.count, requests: after.requests - before.requests, images: after.images - before.images }).toEqual({ count: 1, requests: 4, images: 5 });
    const alone = [];
    for (const b of bodies) alone.push(await post(single, 'score', b));
    for (let i = 0; i < bodies.length; i++) {
      expect(together[i]!.statusCode).toBe(200);
      expect(together[i]!.body).toBe(alone[i]!.body);
    }
  });

  test('sample: each request draws its own latents (own seed, temperature, labels); one decode; equal to unbatched', async () => {
    const bodies = [
      { n: 2, seed: 1, temperature: 0.5, format: 'f32' },
      { n: 3, seed: 2, temperature: 1, labels: [7], format: 'f32' },
      { n: 1, seed: 1, temperature: 0.5, format: 'f32' },
      { n: 4, seed: 9, labels: [0, 1], format: 'f32' },
    ];
    const before = await batches(batched, 'sample');
    const together = await Promise.all(bodies.map((b) => post(batched, 'sample', b)));
    const after = await batches(batched, 'sample');
    expect({ count: after.count - before.count, requests: after.requests - before.requests, images: after.images - before.images }).toEqual({ count: 1, requests: 4, images: 10 });
    for (let i = 0; i < bodies.length; i++) {
      const alone = await post(single, 'sample', bodies[i]);
      expect(together[i]!.statusCode).toBe(200);
      expect(together[i]!.headers['x-labels']).toBe(alone.headers['x-labels']);
      expect(Buffer.compare(together[i]!.rawPayload, alone.rawPayload)).toBe(0);
    }
    expect(together[1]!.headers['x-labels']).toBe('7,7,7');
  });

  test('encode and decode batch too, with results equal to unbatched', async () => {
    const enc = [{ pixels: disc(5), labels: [3] }, { pixels: [...disc(7), ...disc(9)], labels: [1, 8] }];
    const together = await Promise.all(enc.map((b) => post(batched, 'encode', b)));
    for (let i = 0; i < enc.length; i++) expect(together[i]!.body).toBe((await post(single, 'encode', enc[i])).body);
    const dec = together.map((r, i) => ({ latents: (r.json() as { latents: unknown }).latents, labels: enc[i]!.labels, format: 'f32' }));
    const back = await Promise.all(dec.map((b) => post(batched, 'decode', b)));
    for (let i = 0; i < dec.length; i++) expect(Buffer.compare(back[i]!.rawPayload, (await post(single, 'decode', dec[i])).rawPayload)).toBe(0);
  });

  test('requests that together exceed --max-batch go in separate batches', async () => {
    const before = await batches(batched, 'sample');
    const rs = await Promise.all([post(batched, 'sample', { n: 10, format: 'f32' }), post(batched, 'sample', { n: 10, format: 'f32' })]);
    const after = await batches(batched, 'sample');
    expect(rs.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(after.count - before.count).toBe(2);
  });

  test('with --no-batching every request is its own batch', async () => {
    const before = await batches(single, 'score');
    await Promise.all([1, 2, 3].map((r) => post(single, 'score', { pixels: disc(r) })));
    const after = await batches(single, 'score');
    expect({ count: after.count - before.count, requests: after.requests - before.requests }).toEqual({ count: 3, requests: 3 });
  });
});

describe('bounded queue and timeout', () => {
  test('a full queue answers 503 with Retry-After; requests past --timeout-ms answer 504; then the server serves again', async () => {
    // Three slow requests for one worker and a queue of one: one runs, one waits, one is refused.
    // Each takes 0.6 s or more on one thread (a quiet 2-core machine), past the 250 ms timeout.
    const slow = { n: 256, seed: 1, format: 'f32' };
    const rs = await Promise.all([post(small, 'sample', slow), post(small, 'sample', slow), post(small, 'sample', slow)]);
    const byStatus = rs.map((r) => r.statusCode).sort();
    expect(byStatus).toEqual([503, 504, 504]);
    const busy = rs.find((r) => r.statusCode === 503)!;
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json()).toEqual({ error: 'the server is busy: 1 requests are already waiting (--queue 1); retry shortly' });
    for (const r of rs.filter((x) => x.statusCode === 504)) expect(r.json()).toEqual({ error: 'the request did not finish within 250 ms (--timeout-ms)' });
    // The request that timed out while waiting left the queue; the running one finishes, unread.
    expect(metric(await metrics(small), 'inflow_queue_depth')).toBe(0);
    while (metric(await metrics(small), 'inflow_workers_busy') !== 0) await new Promise((r) => setTimeout(r, 100));
    const ok = await post(small, 'sample', { n: 1, format: 'json' });
    expect(ok.statusCode).toBe(200);
  });
});
