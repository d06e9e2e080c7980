// `inflow serve` in-process (fastify inject): endpoints, formats, every bad input, health,
// readiness, metrics and the OpenAPI document. One server for the file (two models: the bundled
// MNIST flow with classes and an untrained RGB flow without); real sockets, client disconnects
// and shutdown are in process.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadModel } from '../../src/io/model-file.js';
import type { FlowModel } from '../../src/models/flow-model.js';
import { createServer, defaults, type InflowServer, type ServerOptions } from '../../src/serve/server.js';
import { bundledModel, image, metric, tinyRgbModel } from './helpers.js';

const options = (over: Partial<ServerOptions>): ServerOptions => ({
  ...defaults, models: [], engine: { backend: 'wasm' }, logger: false, ...over,
});

let server: InflowServer;
let readyzBefore: { status: number; body: string };
let earlySample: { status: number; retryAfter: unknown };
let engine: Engine;
let mnist: FlowModel;

const post = (path: string, body: unknown) =>
  server.app.inject({ method: 'POST', url: `/v1/models/${path}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });

beforeAll(async () => {
  const tiny = await tinyRgbModel();
  server = await createServer(options({ models: [{ name: 'mnist', path: bundledModel }, { name: 'tiny', path: tiny }], bodyLimit: 2 ** 20, maxN: 64 }));
  // The worker needs a second or so to load and warm up: these run before it can have.
  const r = await server.app.inject({ method: 'GET', url: '/readyz' });
  readyzBefore = { status: r.statusCode, body: r.body };
  const s = await post('mnist/sample', { n: 1 });
  earlySample = { status: s.statusCode, retryAfter: s.headers['retry-after'] };
  await server.ready;
  engine = await createEngine({ backend: 'wasm' });
  mnist = await loadModel(bundledModel, { engine });
});

afterAll(async () => {
  await server?.close();
  mnist?.dispose();
  engine?.dispose();
});

describe('health and readiness', () => {
  test('/readyz is 503 while the models load, 200 after; requests meanwhile get 503 with Retry-After', async () => {
    expect(readyzBefore.status).toBe(503);
    expect(JSON.parse(readyzBefore.body)).toMatchObject({ status: 'loading', workers: 1, workersReady: 0 });
    expect(earlySample).toEqual({ status: 503, retryAfter: '1' });
    const r = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ready', workers: 1 });
  });

  test('/healthz is 200', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/healthz' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
  });
});

describe('models and OpenAPI', () => {
  test('/v1/models lists both models with config, parameters, backend and classes', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/v1/models' });
    expect(r.statusCode).toBe(200);
    const { models } = r.json() as { models: Array<Record<string, unknown>> };
    expect(models.map((m) => m.name)).toEqual(['mnist', 'tiny']);
    expect(models[0]).toMatchObject({
      kind: 'flow', parameters: mnist.paramCount(), backend: 'wasm', classes: 10, inputShape: [1, 28, 28],
      config: { kind: 'finc', classes: 10, classCouplings: true }, limits: { maxN: 64, maxBatch: 16 },
      endpoints: ['sample', 'score', 'encode', 'decode'],
    });
    expect(models[1]).toMatchObject({ classes: 0, inputShape: [3, 8, 8] });
  });

  test('/v1/openapi.json documents every endpoint', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const ep of ['sample', 'score', 'encode', 'decode']) expect(doc.paths[`/v1/models/{name}/${ep}`]?.post).toBeDefined();
    for (const p of ['/healthz', '/readyz', '/metrics', '/v1/models']) expect(doc.paths[p]?.get).toBeDefined();
    expect(Object.keys(doc.paths['/v1/models/{name}/score']!.post!.requestBody!.content)).toEqual(['application/json', 'image/png', 'image/jpeg']);
  });
});

describe('sample', () => {
  test('JSON pixels are FlowModel.sample with the same seed (as 0…255: u − 0.5), labels and seed echoed', async () => {
    const r = await post('mnist/sample', { n: 3, seed: 11, temperature: 0.6, labels: [4, 2], format: 'json' });
    expect(r.statusCode).toBe(200);
    const body = r.json() as { shape: number[]; pixels: number[]; seed: number; labels: number[] };
    expect(body.shape).toEqual([3, 1, 28, 28]);
    expect(body.labels).toEqual([4, 2, 4]);
    expect(r.headers['x-seed']).toBe('11');
    const x = await mnist.sample(3, { seed: 11, temperature: 0.6, labels: [4, 2] });
    const want = Array.from(await x.data(), (u) => Math.min(255, Math.max(0, Math.fround(u - 0.5))));
    x.dispose();
    expect(body.pixels).toEqual(want);
  });

  test('f32 is the same numbers as little-endian float32 with X-Shape; png is a PNG grid', async () => {
    const j = (await post('mnist/sample', { n: 2, seed: 5, format: 'json' })).json() as { pixels: number[] };
    const f = await post('mnist/sample', { n: 2, seed: 5, format: 'f32' });
    expect(f.headers['content-type']).toBe('application/octet-stream');
    expect(f.headers['x-shape']).toBe('2,1,28,28');
    expect(Array.from(new Float32Array(new Uint8Array(f.rawPayload).buffer))).toEqual(j.pixels);
    const p = await post('mnist/sample', { n: 4, seed: 5 });
    expect(p.headers['content-type']).toBe('image/png');
    expect(p.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    expect(p.headers['x-labels']).toMatch(/^\d,\d,\d,\d$/);
  });

  test('without a seed one is drawn and returned: sending it back gives the same images', async () => {
    const a = await post('mnist/sample', { n: 2, format: 'f32' });
    const seed = Number(a.headers['x-seed']);
    expect(Number.isSafeInteger(seed)).toBe(true);
    const b = await post('mnist/sample', { n: 2, format: 'f32', seed });
    expect(Buffer.compare(a.rawPayload, b.rawPayload)).toBe(0);
  });

  test('a model without classes samples too, and refuses labels as the library does', async () => {
    const r = await post('tiny/sample', { n: 2, seed: 1, format: 'json' });
    expect(r.statusCode).toBe(200);
    expect((r.json() as { shape: number[] }).shape).toEqual([2, 3, 8, 8]);
    const bad = await post('tiny/sample', { n: 2, labels: [1] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'sample: labels were given but the model has no class prior (train it with --classes)' });
  });
});

describe('score, encode and decode', () => {
  test('a PNG upload scores exactly as the same pixels sent as JSON; class probabilities sum to 1', async () => {
    const fill = (p: number): number => ((p % 28) - 14) ** 2 + (Math.floor(p / 28) - 14) ** 2 < 40 ? 230 : 10;
    const png = await image(28, 28, 1, fill);
    const a = await server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'image/png' }, payload: png });
    expect(a.statusCode).toBe(200);
    const pixels = Array.from({ length: 784 }, (_, p) => fill(p));
    const b = await post('mnist/score', { pixels });
    expect(a.json()).toEqual(b.json());
    const { bitsPerDim, classProbs } = b.json() as { bitsPerDim: number[]; classProbs: number[][] };
    expect(bitsPerDim).toHaveLength(1);
    expect(bitsPerDim[0]).toBeGreaterThan(0);
    expect(classProbs[0]!.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    // The library on pixels + 0.5 (the middle of each 8-bit bin).
    const x = engine.tensor(Float32Array.from(pixels, (v) => v + 0.5), [1, 1, 28, 28]);
    const want = mnist.bitsPerDim(x);
    expect(bitsPerDim[0]).toBeCloseTo((await want.data())[0]!, 4);
    x.dispose();
    want.dispose();
  });

  test('RGB and JPEG uploads are converted to the model\'s channels; a grayscale image to an RGB model', async () => {
    const rgb = await image(28, 28, 3, (p, c) => (p * (c + 1)) % 256);
    const jpeg = await image(28, 28, 3, (p, c) => (p * (c + 1)) % 256, 'jpeg');
    for (const [type, payload] of [['image/png', rgb], ['image/jpeg', jpeg]] as const) {
      const r = await server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': type }, payload });
      expect(r.statusCode, r.body).toBe(200);
    }
    const gray = await image(8, 8, 1, (p) => p * 4);
    const r = await server.app.inject({ method: 'POST', url: '/v1/models/tiny/score', headers: { 'content-type': 'image/png' }, payload: gray });
    expect(r.statusCode, r.body).toBe(200);
    expect(Object.keys(r.json() as object)).toEqual(['bitsPerDim']);
  });

  test('encode → decode gives back the pixels; a batch of JSON images gives one result each', async () => {
    const s = (await post('mnist/sample', { n: 3, seed: 2, format: 'json' })).json() as { pixels: number[]; labels: number[] };
    const enc = await post('mnist/encode', { pixels: s.pixels, shape: [3, 1, 28, 28], labels: s.labels });
    expect(enc.statusCode, enc.body).toBe(200);
    const { latents } = enc.json() as { latents: Array<{ shape: number[]; values: number[] }> };
    expect(latents.map((l) => l.shape)).toEqual([[3, 2, 14, 14], [3, 8, 7, 7]]);
    const dec = await post('mnist/decode', { latents, labels: s.labels });
    expect(dec.statusCode, dec.body).toBe(200);
    const back = (dec.json() as { pixels: number[] }).pixels;
    expect(Math.max(...back.map((v, i) => Math.abs(v - s.pixels[i]!)))).toBeLessThan(0.01);
    const score = (await post('mnist/score', { pixels: s.pixels })).json() as { bitsPerDim: number[]; classProbs: number[][] };
    expect(score.bitsPerDim).toHaveLength(3);
    expect(score.classProbs).toHaveLength(3);
  });
});

describe('bad input: a 4xx with one line naming the problem, and the server keeps serving', () => {
  const cases: Array<[string, () => Promise<{ statusCode: number; body: string }>, number, RegExp]> = [
    ['malformed JSON', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample', headers: { 'content-type': 'application/json' }, payload: '{"n": 2,' }), 400, /^the body is not valid JSON/],
    ['an empty JSON body', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample', headers: { 'content-type': 'application/json' }, payload: '' }), 400, /body is empty/],
    ['a JSON body that is not an object', () => post('mnist/sample', [1, 2]), 400, /^sample: the body must be a JSON object with n, temperature, seed, labels, format, got an array of 2$/],
    ['an unknown field', () => post('mnist/sample', { n: 1, temprature: 1 }), 400, /^sample: unknown field "temprature" \(known: /],
    ['a content type the endpoint does not take', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample', headers: { 'content-type': 'text/plain' }, payload: 'n=1' }), 415, /^sample takes application\/json, not 'text\/plain'$/],
    ['a content type the server does not read', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'application/xml' }, payload: '<n/>' }), 415, /^unsupported content type 'application\/xml'/],
    ['no content type', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample' }), 415, /^sample takes application\/json, not a body without a content type$/],
    ['an image of the wrong size', async () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'image/png' }, payload: await image(32, 32, 1, () => 0) }), 400, /^score: the image is 32×32 pixels but the model takes 28×28 images$/],
    ['a corrupt image', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'image/png' }, payload: Buffer.from('not a png at all') }), 400, /^score: the body is not a readable PNG or JPEG image$/],
    ['a truncated image', async () => {
      const png = await image(28, 28, 1, (p) => (p * 37) % 256);
      return server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'image/png' }, payload: png.subarray(0, png.length - 40) });
    }, 400, /^score: the PNG image is corrupt or truncated$/],
    ['an empty image', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/score', headers: { 'content-type': 'image/jpeg' }, payload: Buffer.alloc(0) }), 400, /^score: the image body is empty$/],
    ['n = 0', () => post('mnist/sample', { n: 0 }), 400, /^sample: n = 0 must be a positive integer$/],
    ['n < 0', () => post('mnist/sample', { n: -3 }), 400, /^sample: n = -3 must be a positive integer$/],
    ['n not a whole number', () => post('mnist/sample', { n: 2.5 }), 400, /^sample: n = 2.5 must be a positive integer$/],
    ['n missing', () => post('mnist/sample', {}), 400, /^sample: n = missing must be a positive integer$/],
    ['n above the limit', () => post('mnist/sample', { n: 65 }), 400, /^sample: n = 65 is over the limit of 64 images per request/],
    ['too many images to score', () => post('mnist/score', { pixels: new Array(65 * 784).fill(0) }), 400, /^score: N = 65 is over the limit of 64/],
    ['temperature "NaN"', () => post('mnist/sample', { n: 1, temperature: 'NaN' }), 400, /^sample: temperature = "NaN" must be a finite number in \[0, 10\]/],
    ['temperature 1e999 (Infinity)', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample', headers: { 'content-type': 'application/json' }, payload: '{"n": 1, "temperature": 1e999}' }), 400, /^sample: temperature = Infinity must be a finite number in \[0, 10\]/],
    ['temperature -1e999', () => server.app.inject({ method: 'POST', url: '/v1/models/mnist/sample', headers: { 'content-type': 'application/json' }, payload: '{"n": 1, "temperature": -1e999}' }), 400, /^sample: temperature = -Infinity must be/],
    ['a negative seed', () => post('mnist/sample', { n: 1, seed: -1 }), 400, /^sample: seed = -1 must be an integer from 0 to 4294967295$/],
    ['an unknown format', () => post('mnist/sample', { n: 1, format: 'gif' }), 400, /^sample: format = "gif" must be 'png' or 'json' or 'f32'$/],
    ['an unknown model', () => post('nope/sample', { n: 1 }), 404, /^unknown model 'nope' \(served: mnist, tiny\)$/],
    ['an unknown endpoint', () => post('mnist/restore', { n: 1 }), 404, /^no route POST \/v1\/models\/mnist\/restore/],
    ['an unknown label', () => post('mnist/sample', { n: 2, labels: [3, 10] }), 400, /^sample: label 10 \(image 1\) is not a class of this model \(0…9\)$/],
    ['a label that is not a number', () => post('mnist/sample', { n: 1, labels: ['seven'] }), 400, /^sample: label "seven" \(image 0\) is not a class of this model/],
    ['more labels than images', () => post('mnist/sample', { n: 1, labels: [1, 2] }), 400, /^sample: 2 labels for 1 images/],
    ['encode without the labels the couplings need', () => post('mnist/encode', { pixels: new Array(784).fill(0) }), 400, /^encode: the coupling networks of this model see the label: pass labels \(0…9\) for the 1 images$/],
    ['a pixel out of range', () => post('mnist/score', { pixels: [...new Array(783).fill(0), 256] }), 400, /^score: pixels\[783\] = 256 is not in \[0, 255\]$/],
    ['a pixel that is not a number', () => post('mnist/score', { pixels: [null, ...new Array(783).fill(0)] }), 400, /^score: pixels\[0\] = null must be a number in \[0, 255\]$/],
    ['pixels that are not whole images', () => post('mnist/score', { pixels: [1, 2, 3] }), 400, /^score: 3 values in pixels are not a whole number of 1×28×28 images \(784 values each\)$/],
    ['a shape that does not match the model', () => post('mnist/score', { pixels: new Array(784).fill(0), shape: [1, 28, 28, 1] }), 400, /^score: shape = \[1, 28, 28, 1\] must be \[N, 1, 28, 28\] for this model$/],
    ['latents of the wrong count', () => post('mnist/decode', { latents: [{ values: [0] }], labels: [1] }), 400, /^decode: latents must be an array of the model's 2 latents/],
    ['latents too large', () => post('mnist/decode', { latents: [{ values: new Array(392).fill(1e5) }, { values: new Array(392).fill(0) }], labels: [1] }), 400, /^decode: latents\[0\]\.values\[0\] = 100000 is not in \[-10000, 10000\] \(nor are 391 other values\)$/],
    ['an oversized body', () => post('mnist/score', { pixels: new Array(300_000).fill(255) }), 413, /^the body is larger than the limit of 1 MiB \(--body-limit\)$/],
  ];

  test.each(cases)('%s', async (_what, send, status, message) => {
    const r = await send();
    expect(r.statusCode, r.body).toBe(status);
    const body = JSON.parse(r.body) as { error: string };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(message);
    expect(body.error).not.toMatch(/\n|at .*\.(ts|js):\d|undefined|\[object/);
  });

  test('after all of them a valid request is answered', async () => {
    const r = await post('mnist/sample', { n: 1, seed: 1, format: 'json' });
    expect(r.statusCode).toBe(200);
  });
});

describe('metrics', () => {
  test('/metrics counts requests by route and status, and reports batches, queue depth and engine memory', async () => {
    const before = await server.app.inject({ method: 'GET', url: '/metrics' });
    const count = (text: string, status: string) => metric(text, 'inflow_http_requests_total', { method: 'POST', route: '/v1/models/:name/sample', status }) ?? 0;
    await post('mnist/sample', { n: 2 });
    await post('mnist/sample', { n: 0 });
    const r = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    const text = r.body;
    expect(count(text, '200') - count(before.body, '200')).toBe(1);
    expect(count(text, '400') - count(before.body, '400')).toBe(1);
    expect(metric(text, 'inflow_http_request_duration_seconds_count', { method: 'POST', route: '/v1/models/:name/sample' })).toBeGreaterThan(0);
    expect(metric(text, 'inflow_batch_size_images_count', { model: 'mnist', endpoint: 'sample' })).toBeGreaterThan(0);
    expect(metric(text, 'inflow_batch_size_requests_count', { model: 'mnist', endpoint: 'sample' })).toBeGreaterThan(0);
    expect(metric(text, 'inflow_queue_depth')).toBe(0);
    // Only the /metrics request itself: every other request was counted out exactly once.
    expect(metric(text, 'inflow_requests_in_flight')).toBe(1);
    expect(metric(text, 'inflow_workers_ready')).toBe(1);
    expect(metric(text, 'inflow_workers_busy')).toBe(0);
    // The weights of both models at least: 316 168 float32 parameters of the MNIST flow.
    expect(metric(text, 'inflow_engine_memory_bytes', { worker: '0' })).toBeGreaterThan(316_168 * 4);
    expect(metric(text, 'inflow_engine_tensors', { worker: '0' })).toBeGreaterThan(0);
    expect(metric(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  test('the engine holds no more tensors after 20 more requests than before them', async () => {
    const tensors = async () => metric((await server.app.inject({ method: 'GET', url: '/metrics' })).body, 'inflow_engine_tensors', { worker: '0' });
    const before = await tensors();
    for (let i = 0; i < 5; i++) {
      await post('mnist/sample', { n: 2, format: 'f32' });
      await post('mnist/score', { pixels: new Array(784).fill(i) });
      await post('tiny/encode', { pixels: new Array(192).fill(i) });
      await post('mnist/decode', { latents: [{ values: new Array(392).fill(0.1) }, { values: new Array(392).fill(0) }], labels: [i] });
    }
    expect(await tensors()).toBe(before);
  });
});
