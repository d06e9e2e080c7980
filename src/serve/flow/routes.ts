/**
 * The HTTP side of flow models (FlowModel files): sample, score, encode and decode. Requests are
 * checked here, on the main thread, with the library's guards, so a batch the worker runs never
 * fails because of one client's mistake; the worker runs them (src/serve/flow/runtime.ts).
 */
import { randomInt } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { checkSeed, MAX_SEED } from '../../data/rng.js';
import { inspectModelFile } from '../../io/model-file.js';
import { checkImageGrid, encodeImageGrid } from '../../io/png.js';
import { latentShapes } from '../../layers/multiscale.js';
import { maxBatch } from '../../models/cost.js';
import { checkCount, checkEnum, checkLabels, checkTemperature, MAX_TEMPERATURE } from '../../models/guards.js';
import { batchOf, numberArray, objectBody } from '../body.js';
import { badRequest } from '../http-error.js';
import { decodeUpload } from '../images.js';
import type { Endpoint, Job, ModelRoutes, ServedModel } from '../registry.js';
import type { FlowMeta, LatentsPayload, LatentsResult, PixelsPayload, PixelsResult, SamplePayload, ScoreResult } from './meta.js';
import { WIRE_SHIFT } from './meta.js';

/** Temperature when the request gives none: `inflow sample`'s default (cleaner digits than 1). */
export const DEFAULT_TEMPERATURE = 0.7;
/** Latent values a decode request may send: N(0, T²) latents stay far inside; larger only overflow the flow. */
export const LATENT_LIMIT = 1e4;

const FORMATS = ['png', 'json', 'f32'] as const;
type Format = (typeof FORMATS)[number];
const IMAGE_TYPES = ['image/png', 'image/jpeg'];

const meta = (model: ServedModel): FlowMeta => model.meta as FlowMeta;

/** n against the per-request limit, after the library's positive-integer check. */
function checkN(op: string, what: string, n: unknown, model: ServedModel): number {
  const count = checkCount(op, what, n);
  if (count > model.maxN) throw badRequest(`${op}: ${what} = ${count} is over the limit of ${model.maxN} images per request (--max-n and the memory budget set it)`);
  return count;
}

/** Labels for n images, as FlowModel checks them: classes of the model, one per image (or, for sample, fewer to cycle). */
function checkImageLabels(op: string, labels: unknown, n: number, m: FlowMeta, cycle: boolean): number[] | undefined {
  if (labels === undefined) {
    if (!cycle && m.classCouplings) throw badRequest(`${op}: the coupling networks of this model see the label: pass labels (0…${m.classes - 1}) for the ${n} images`);
    return undefined;
  }
  if (!m.classes) throw badRequest(`${op}: labels were given but the model has no class prior (train it with --classes)`);
  const list = Array.from(checkLabels(op, labels, m.classes));
  if (cycle) {
    if (list.length === 0) throw badRequest(`${op}: labels is empty: give one class per image, or fewer to cycle through`);
    if (list.length > n) throw badRequest(`${op}: ${list.length} labels for ${n} images: give one class per image, or fewer to cycle through`);
  } else if (list.length !== n) throw badRequest(`${op}: ${list.length} labels for ${n} images`);
  return list;
}

function checkFormat(op: string, v: unknown, fallback: Format, n: number, m: FlowMeta): Format {
  const format = checkEnum(op, 'format', v, FORMATS) ?? fallback;
  // A grid too large to encode is refused before the work (src/io/png.ts).
  if (format === 'png') checkImageGrid([n, ...m.inputShape]);
  return format;
}

interface PixelsContext { format: Format; headers: Record<string, string>; extra: Record<string, unknown> }

/** Images back to the client: a PNG grid, JSON arrays, or raw little-endian float32 with X-Shape. */
async function sendPixels(result: PixelsResult, n: number, m: FlowMeta, ctx: PixelsContext, reply: FastifyReply): Promise<unknown> {
  const shape = [n, ...m.inputShape] as [number, number, number, number];
  reply.headers(ctx.headers);
  if (result.labels) reply.header('x-labels', result.labels.join(','));
  if (ctx.format === 'png') return reply.type('image/png').send(Buffer.from(await encodeImageGrid(result.pixels, shape)));
  if (ctx.format === 'f32') {
    const p = result.pixels;
    return reply.type('application/octet-stream').header('x-shape', shape.join(',')).send(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  }
  return reply.send({ shape, pixels: Array.from(result.pixels), ...ctx.extra, ...(result.labels ? { labels: result.labels } : {}) });
}

// ---- OpenAPI schemas (documentation; `parse` checks requests) -------------------------------------

const shape4 = { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 4, maxItems: 4 };
const pixelsField = { type: 'array', items: { type: 'number', minimum: 0, maximum: 255 }, description: 'N×C×H×W values, row-major, 8-bit intensities 0…255 (fractions allowed)' };
const labelsField = { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'one class per image (a model with a class prior)' };
const formatField = { type: 'string', enum: [...FORMATS], description: "png: a grid image; json: { shape, pixels }; f32: raw little-endian float32, N×C×H×W, shape in X-Shape" };
const latentsField = {
  type: 'array', description: 'one entry per latent, as encode returns them',
  items: { type: 'object', required: ['values'], properties: { shape: shape4, values: { type: 'array', items: { type: 'number' } } } },
};
const pixelsResponse = {
  200: {
    description: 'the images (pixels 0…255): a PNG grid, JSON, or float32 (X-Shape: N,C,H,W); X-Labels: the class of each image when the model has classes',
    content: {
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'application/json': { schema: { type: 'object', properties: { shape: shape4, pixels: { type: 'array', items: { type: 'number' } }, labels: labelsField } } },
      'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
    },
  },
};

// ---- endpoints --------------------------------------------------------------------------------

const sample: Endpoint = {
  name: 'sample',
  summary: 'Draw images',
  description: 'n images from the model at a temperature; the same seed gives the same images from any worker, process or backend. Without a seed, one is drawn and returned in X-Seed.',
  consumes: ['application/json'],
  batchable: true,
  body: {
    type: 'object', required: ['n'], additionalProperties: false,
    properties: {
      n: { type: 'integer', minimum: 1, description: 'number of images (at most the model\'s limits.maxN)' },
      temperature: { type: 'number', minimum: 0, maximum: MAX_TEMPERATURE, default: DEFAULT_TEMPERATURE, description: 'scale of the latent Gaussian (lower = cleaner, less varied)' },
      seed: { type: 'integer', minimum: 0, maximum: MAX_SEED, description: 'latent seed (default: random, returned in X-Seed)' },
      labels: { ...labelsField, description: 'classes to draw, one per image or fewer to cycle (a model with a class prior; default: drawn at random)' },
      format: { ...formatField, default: 'png' },
    },
  },
  responses: pixelsResponse,
  parse({ body }, model): Job {
    const op = 'sample', m = meta(model);
    const b = objectBody(op, body, ['n', 'temperature', 'seed', 'labels', 'format']);
    const n = checkN(op, 'n', b.n, model);
    const temperature = b.temperature === undefined ? DEFAULT_TEMPERATURE : checkTemperature(op, b.temperature);
    const seed = b.seed === undefined ? randomInt(0, MAX_SEED + 1) : checkSeed(op, b.seed);
    const labels = checkImageLabels(op, b.labels, n, m, true);
    const format = checkFormat(op, b.format, 'png', n, m);
    const payload: SamplePayload = { n, temperature, seed, ...(labels ? { labels } : {}) };
    const context: PixelsContext = { format, headers: { 'x-seed': String(seed) }, extra: { seed, temperature } };
    return { payload, images: n, context };
  },
  reply: (result, job, reply, model) => sendPixels(result as PixelsResult, (job.payload as SamplePayload).n, meta(model), job.context as PixelsContext, reply),
};

const score: Endpoint = {
  name: 'score',
  summary: 'Bits per dimension of images',
  description: 'One PNG or JPEG of the model\'s size (grayscale or RGB, converted to the model\'s channels), or JSON pixels; each 8-bit value v is scored at the middle of its bin, v + 0.5. Returns −log₂ p(x) / D per image and, for a model with classes, p(y | x) per image.',
  consumes: ['application/json', ...IMAGE_TYPES],
  batchable: true,
  body: {
    content: {
      'application/json': {
        schema: { type: 'object', required: ['pixels'], additionalProperties: false, properties: { pixels: pixelsField, shape: { ...shape4, description: '[N, C, H, W] (default: N from the number of values)' } } },
      },
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'image/jpeg': { schema: { type: 'string', format: 'binary' } },
    },
  },
  responses: {
    200: {
      description: 'bits/dim per image; class probabilities per image for a model with classes',
      type: 'object',
      properties: {
        bitsPerDim: { type: 'array', items: { type: 'number' } },
        classProbs: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
      },
    },
  },
  async parse({ body, contentType }, model): Promise<Job> {
    const op = 'score', m = meta(model);
    const payload = await pixelsPayload(op, body, contentType, model, m, false);
    return { payload, images: payload.n, transfer: [payload.pixels.buffer as ArrayBuffer] };
  },
  reply(result, _job, reply) {
    const r = result as ScoreResult;
    const bitsPerDim = Array.from(r.bitsPerDim);
    if (!r.classProbs) return reply.send({ bitsPerDim });
    const K = r.classProbs.length / bitsPerDim.length;
    const classProbs = bitsPerDim.map((_, i) => Array.from(r.classProbs!.subarray(i * K, (i + 1) * K)));
    return reply.send({ bitsPerDim, classProbs });
  },
};

/** The images of a score or encode request: one uploaded image, or JSON { pixels, shape?, labels? }. */
async function pixelsPayload(op: string, body: unknown, contentType: string | undefined, model: ServedModel, m: FlowMeta, withLabels: boolean): Promise<PixelsPayload> {
  if (contentType && IMAGE_TYPES.includes(contentType)) {
    const bytes = await decodeUpload(body as Buffer, m.inputShape, op);
    return { n: 1, pixels: Float32Array.from(bytes, (v) => v + WIRE_SHIFT) };
  }
  const b = objectBody(op, body, withLabels ? ['pixels', 'shape', 'labels'] : ['pixels', 'shape']);
  const pixels = numberArray(op, 'pixels', b.pixels, 0, 255, WIRE_SHIFT);
  const n = checkN(op, 'N', batchOf(op, 'pixels', pixels.length, m.inputShape, b.shape), model);
  const labels = withLabels ? checkImageLabels(op, b.labels, n, m, false) : undefined;
  return { n, pixels, ...(labels ? { labels } : {}) };
}

const encode: Endpoint = {
  name: 'encode',
  summary: 'Images to latents',
  description: 'The flow\'s latents of JSON pixels (8-bit values v, taken as v + 0.5), one array per latent (split latents first, the top latent last). A model whose couplings see the label needs labels.',
  consumes: ['application/json'],
  batchable: true,
  body: {
    type: 'object', required: ['pixels'], additionalProperties: false,
    properties: { pixels: pixelsField, shape: shape4, labels: labelsField },
  },
  responses: {
    200: {
      description: 'the latents, one entry per latent, each N × C × H × W row-major',
      type: 'object',
      properties: { latents: latentsField },
    },
  },
  async parse({ body, contentType }, model): Promise<Job> {
    const payload = await pixelsPayload('encode', body, contentType, model, meta(model), true);
    return { payload, images: payload.n, transfer: [payload.pixels.buffer as ArrayBuffer] };
  },
  reply(result, job, reply, model) {
    const n = (job.payload as PixelsPayload).n;
    const shapes = meta(model).latentShapes;
    return reply.send({ latents: (result as LatentsResult).latents.map((v, i) => ({ shape: [n, ...shapes[i]!], values: Array.from(v) })) });
  },
};

const decode: Endpoint = {
  name: 'decode',
  summary: 'Latents to images',
  description: 'Pixels (0…255) of latents as encode returns them; a model whose couplings see the label needs labels.',
  consumes: ['application/json'],
  batchable: true,
  body: {
    type: 'object', required: ['latents'], additionalProperties: false,
    properties: { latents: latentsField, labels: labelsField, format: { ...formatField, default: 'json' } },
  },
  responses: pixelsResponse,
  parse({ body }, model): Job {
    const op = 'decode', m = meta(model);
    const b = objectBody(op, body, ['latents', 'labels', 'format']);
    const shapes = m.latentShapes;
    if (!Array.isArray(b.latents) || b.latents.length !== shapes.length)
      throw badRequest(`${op}: latents must be an array of the model's ${shapes.length} latents, as encode returns them`);
    let n = -1;
    const latents = b.latents.map((entry: unknown, i) => {
      const e = objectBody(op, entry, ['shape', 'values'], `latents[${i}]`);
      const values = numberArray(op, `latents[${i}].values`, e.values, -LATENT_LIMIT, LATENT_LIMIT);
      const k = batchOf(op, `latents[${i}].values`, values.length, shapes[i]!, e.shape);
      if (n >= 0 && k !== n) throw badRequest(`${op}: latents[${i}] holds ${k} images, latents[0] ${n}`);
      n = k;
      return values;
    });
    checkN(op, 'N', n, model);
    const labels = checkImageLabels(op, b.labels, n, m, false);
    const format = checkFormat(op, b.format, 'json', n, m);
    const payload: LatentsPayload = { n, latents, ...(labels ? { labels } : {}) };
    return { payload, images: n, transfer: latents.map((l) => l.buffer as ArrayBuffer), context: { format, headers: {}, extra: {} } satisfies PixelsContext };
  },
  reply: (result, job, reply, model) => sendPixels(result as PixelsResult, (job.payload as LatentsPayload).n, meta(model), job.context as PixelsContext, reply),
};

export const flowRoutes: ModelRoutes = {
  kind: 'flow-model',
  inspect(path, memoryBudget) {
    const info = inspectModelFile(path, { memoryBudget });
    const m = info.config.model;
    const flowMeta: FlowMeta = {
      config: info.config,
      params: info.params,
      inputShape: [...m.inputShape],
      classes: m.classes ?? 0,
      classCouplings: !!(m.classes && m.classCouplings),
      latentShapes: latentShapes(info.config.architecture),
    };
    return { meta: flowMeta, budgetBatch: maxBatch({ params: info.params, activationBytesPerImage: info.activationBytesPerImage }, memoryBudget) };
  },
  describe(model, backend) {
    const m = meta(model);
    return {
      name: model.name,
      kind: 'flow',
      config: m.config.model,
      parameters: m.params,
      backend,
      classes: m.classes,
      inputShape: m.inputShape,
      latentShapes: m.latentShapes,
      limits: { maxN: model.maxN, maxBatch: model.maxBatch },
      endpoints: [sample, score, encode, decode].map((e) => e.name),
    };
  },
  endpoints: [sample, score, encode, decode],
};
