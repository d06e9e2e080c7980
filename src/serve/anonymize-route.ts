/**
 * POST /anonymize on `inflow serve` (docs/anonymize.md §8): a photo in, the same photo with its
 * faces (and with plates=true its licence plates) hidden out. face-api's TinyFaceDetector and the
 * bundled plate detector are loaded once when the server starts, on an engine of the main thread;
 * a request that needs a detector that could not be loaded is answered 503 and the rest of the
 * server works as before. With verify=true, face-api's recognition network (loaded on the first such
 * request, from the detector's folder) measures how far each hidden face lies from its original
 * (docs/anonymize.md §4.2). The fills run on the host and a photo's work is short (tens to hundreds of ms),
 * so requests run one at a time in arrival order instead of going through the model workers.
 */
import { Buffer } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { anonymize, type AnonymizeOptions } from '../anonymize/anonymize.js';
import { SAME_PERSON_DISTANCE } from '../anonymize/deidentify.js';
import { encodePhoto, type PhotoFormat } from '../cli/photo-files.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../data/image-folder.js';
import { createEngine, type EngineOptions } from '../engine/dispatcher.js';
import type { Engine } from '../engine/engine.js';
import { describeValue } from '../engine/errors.js';
import { loadFaceRecognitionNet, loadTinyFaceDetector, recognizerWeightsBeside } from '../models/detect/face-api-weights.js';
import type { FaceRecognitionNet } from '../models/detect/face-recognition-net.js';
import type { TinyFaceDetector } from '../models/detect/tiny-face-detector.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../models/plates/plate-file-node.js';
import type { PlateDetector } from '../models/plates/plate-detector.js';
import { objectBody } from './body.js';
import { badRequest, HttpError } from './http-error.js';
import { decodePhoto } from './photo-upload.js';

export interface AnonymizeRouteOptions {
  /** The detector's engine (the server's engine options). */
  engine: EngineOptions;
  /** face-api's model folder or TinyFaceDetector manifest (default: the installed package); false: no detector, the route answers 503. */
  weights?: string | false;
  /** A plate detector file (default: the bundled models/plate-detector.safetensors); false: none, plates=true answers 503. */
  plateModel?: string | false;
  /** Most pixels an upload may state in its header (default 50 000 000, as the CLI). */
  maxPixels?: number;
  /** Most requests waiting for their turn; more are answered 503 with Retry-After. */
  queue: number;
  /** A request still waiting for its turn after this is answered 504. */
  timeoutMs: number;
}

export interface AnonymizeRoute {
  /** Settles once the detector is loaded or known to be unavailable (never rejects). */
  ready: Promise<void>;
  /** Why the route answers 503 for faces, or null once face detection works. */
  unavailable(): string | null;
  /** Why plates=true answers 503, or null once plate detection works. */
  platesUnavailable(): string | null;
  close(): Promise<void>;
}

const OP = 'anonymize';
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;
const MODES = ['blur', 'pixelate', 'solid', 'telea'] as const;
const FORMATS = ['same', 'png', 'jpeg', 'webp'] as const;
const OUTPUTS = ['image', 'json'] as const;
const OPTION_KEYS = ['mode', 'faces', 'plates', 'threshold', 'plateThreshold', 'shrink', 'dilate', 'verify', 'format', 'output'] as const;

interface RouteRequest {
  options: AnonymizeOptions;
  faces: boolean;
  plates: boolean;
  verify: boolean;
  format: (typeof FORMATS)[number];
  output: (typeof OUTPUTS)[number];
}

/** A number from a query string ('0.3') or JSON (0.3). */
function numberOption(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw badRequest(`${OP}: ${name} = ${describeValue(v)} must be a number`);
  return n;
}

/** A switch from a query string ('true', 'false') or JSON (true, false). */
function booleanOption(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw badRequest(`${OP}: ${name} = ${describeValue(v)} must be true or false`);
}

function choice<T extends string>(name: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw badRequest(`${OP}: ${name} = ${describeValue(v)} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** The route's options from the query string or the JSON body; value ranges are the library's checks. */
export function parseAnonymizeOptions(raw: Record<string, unknown>): RouteRequest {
  for (const [k, v] of Object.entries(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw badRequest(`${OP}: unknown option ${describeValue(k)} (known: ${OPTION_KEYS.join(', ')})`);
    if (Array.isArray(v)) throw badRequest(`${OP}: ${k} is given more than once`);
  }
  if (raw.mode === 'inpaint') throw badRequest(`${OP}: mode 'inpaint' needs a diffusion model, which this route does not load (use ${MODES.join(', ')}, or inflow anonymize --model)`);
  const mode = choice('mode', raw.mode, MODES, 'telea');
  const threshold = numberOption('threshold', raw.threshold);
  if (threshold !== undefined && !(threshold > 0 && threshold < 1)) throw badRequest(`${OP}: threshold = ${threshold} must be between 0 and 1`);
  const faces = booleanOption('faces', raw.faces, true), plates = booleanOption('plates', raw.plates, false);
  if (!faces && !plates) throw badRequest(`${OP}: faces=false leaves nothing to hide: add plates=true (licence plates only)`);
  if (!faces && threshold !== undefined) throw badRequest(`${OP}: threshold applies to faces, but faces=false`);
  const plateThreshold = numberOption('plateThreshold', raw.plateThreshold);
  if (plateThreshold !== undefined && !plates) throw badRequest(`${OP}: plateThreshold applies to plates: add plates=true`);
  if (plateThreshold !== undefined && !(plateThreshold > 0 && plateThreshold < 1)) throw badRequest(`${OP}: plateThreshold = ${plateThreshold} must be between 0 and 1`);
  const shrink = numberOption('shrink', raw.shrink), dilate = numberOption('dilate', raw.dilate);
  const verify = booleanOption('verify', raw.verify, false);
  if (verify && !faces) throw badRequest(`${OP}: verify checks faces, but faces=false`);
  return {
    faces, plates, verify,
    options: {
      mode, ...(threshold !== undefined ? { scoreThreshold: threshold } : {}), ...(shrink !== undefined ? { shrink } : {}), ...(dilate !== undefined ? { dilate } : {}),
      ...(plateThreshold !== undefined ? { plateThreshold } : {}),
    },
    format: choice('format', raw.format, FORMATS, 'same'),
    output: choice('output', raw.output, OUTPUTS, 'image'),
  };
}

const mediaType = (header: string | undefined): string | undefined => header?.split(';')[0]!.trim().toLowerCase() || undefined;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Registers POST /anonymize on `app` and starts loading the detector. */
export function anonymizeRoute(app: FastifyInstance, opts: AnonymizeRouteOptions): AnonymizeRoute {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  let engine: Engine | null = null, detector: TinyFaceDetector | null = null, plateDetector: PlateDetector | null = null;
  // Loaded on the first verify=true request (most servers never need it), in that request's turn; a failure is kept and answered 503.
  let recognizer: Promise<FaceRecognitionNet> | null = null;
  const loadRecognizer = (): Promise<FaceRecognitionNet> => {
    recognizer ??= loadFaceRecognitionNet(engine!, recognizerWeightsBeside(opts.weights === false ? undefined : opts.weights)).catch((e: Error) => {
      const why = `verify is not available: face-api's recognition network did not load: ${e.message.split('\n')[0]}`;
      app.log.warn(`POST /anonymize will answer 503 for verify=true: ${why}`);
      throw new HttpError(503, why);
    });
    return recognizer;
  };
  let why: string | null = 'the face detector is still loading', plateWhy: string | null = 'the plate detector is still loading';
  const ready = (async () => {
    if (opts.weights === false) why = 'face detection is off on this server';
    if (opts.plateModel === false) plateWhy = 'plate detection is off on this server';
    if (opts.weights === false && opts.plateModel === false) return;
    try {
      engine = await createEngine(opts.engine);
    } catch (e) {
      why = plateWhy = `anonymisation is not available: ${(e as Error).message.split('\n')[0]}`;
      app.log.warn(`POST /anonymize will answer 503: ${why}`);
      return;
    }
    if (opts.weights !== false) {
      try {
        detector = await loadTinyFaceDetector(engine, opts.weights !== undefined ? { weights: opts.weights } : {});
        why = null;
      } catch (e) {
        why = `face detection is not available: ${(e as Error).message.split('\n')[0]}`;
        app.log.warn(`POST /anonymize will answer 503 for faces: ${why}`);
      }
    }
    if (opts.plateModel !== false) {
      try {
        plateDetector = loadPlateDetector(opts.plateModel ?? BUNDLED_PLATE_DETECTOR, { engine });
        plateWhy = null;
      } catch (e) {
        plateWhy = `plate detection is not available: ${(e as Error).message.split('\n')[0]}`;
        app.log.warn(`POST /anonymize will answer 503 for plates=true: ${plateWhy}`);
      }
    }
  })();

  // Requests take turns on the one detector; `waiting` counts those queued or running.
  let turn: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  const inTurn = <T>(req: FastifyReply, work: () => Promise<T>): Promise<T> => {
    if (waiting >= opts.queue) throw new HttpError(503, `${OP}: ${waiting} requests are already waiting (--queue)`, { 'retry-after': '1' });
    waiting++;
    const run = turn.then(() => {
      // A client that left while waiting costs nothing more (the server already logged its 499).
      if (req.raw.destroyed) throw new HttpError(499, 'the client closed the connection');
      if (req.elapsedTime > opts.timeoutMs) throw new HttpError(504, `the request did not start within ${opts.timeoutMs} ms (--timeout-ms)`);
      return work();
    });
    turn = run.catch(() => {});
    return run.finally(() => { waiting--; });
  };

  app.addContentTypeParser('image/webp', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const binary = { schema: { type: 'string', format: 'binary' } };
  const optionProps = {
    mode: { type: 'string', enum: [...MODES], default: 'telea', description: 'how each face or plate is hidden (docs/anonymize.md §2)' },
    faces: { type: 'boolean', default: true, description: 'hide faces (false with plates=true: plates only)' },
    plates: { type: 'boolean', default: false, description: 'also hide licence plates (the bundled plate detector, synthetic Indian-style plates; docs/plates.md)' },
    threshold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'keep faces scoring above this' },
    plateThreshold: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.5, description: 'keep plates scoring above this' },
    shrink: { type: 'number', minimum: 0, exclusiveMaximum: 0.5, default: 0.1, description: 'fraction taken off each side of a box' },
    dilate: { type: 'integer', minimum: 0, default: 0, description: 'pixels added on every side after shrinking' },
    verify: { type: 'boolean', default: false, description: `measure each hidden face against its original with face-api's recognition network (above ${SAME_PERSON_DISTANCE}: no longer matched); distances in X-Distances and X-Still-Matching, or per face in the JSON` },
    format: { type: 'string', enum: [...FORMATS], default: 'same', description: 'format of the returned image (same: as uploaded; JPEG is re-encoded lossily)' },
    output: { type: 'string', enum: [...OUTPUTS], default: 'image', description: 'image: the bytes, boxes in X-Faces / X-Boxes (and X-Plates / X-Plate-Boxes); json: the image as base64 with the boxes' },
  };
  app.post('/anonymize', {
    schema: {
      summary: 'Hide the faces (and licence plates) in a photo (face-api\'s TinyFaceDetector, inflow\'s plate detector, then blur, pixelate, solid or telea fill)',
      description: 'The photo as PNG, JPEG or WebP bytes with options in the query string, or JSON { image: base64, …options }. Pixels outside the filled boxes are returned unchanged (exactly for PNG and WebP).',
      querystring: { type: 'object', properties: optionProps },
      body: {
        content: {
          'image/png': binary, 'image/jpeg': binary, 'image/webp': binary,
          'application/json': { schema: { type: 'object', required: ['image'], properties: { image: { type: 'string', description: 'the photo\'s bytes, base64' }, ...optionProps } } },
        },
      },
      response: {
        200: { description: 'the anonymised photo (headers X-Faces, X-Boxes, with plates=true X-Plates, X-Plate-Boxes, with verify=true X-Distances, X-Still-Matching), or with output=json: { width, height, format, faces, boxes, plates, plateBoxes, detections (with verify=true each face\'s distance), stillMatching, regions, image }' },
        '4xx': { type: 'object', properties: { error: { type: 'string' } } },
        '5xx': { type: 'object', properties: { error: { type: 'string' } } },
      },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const type = mediaType(req.headers['content-type']);
    let bytes: Buffer, raw: Record<string, unknown>;
    if (type === 'application/json') {
      const { image, ...rest } = objectBody(OP, req.body, ['image', ...OPTION_KEYS]);
      if (Object.keys(req.query as object).length) throw badRequest(`${OP}: give the options in the JSON body or in the query string, not both`);
      if (typeof image !== 'string') throw badRequest(`${OP}: image = ${describeValue(image)} must be the photo's bytes as a base64 string`);
      bytes = Buffer.from(image, 'base64');
      raw = rest;
    } else if (type && (IMAGE_TYPES as readonly string[]).includes(type)) {
      bytes = req.body as Buffer;
      raw = req.query as Record<string, unknown>;
    } else throw new HttpError(415, `${OP} takes ${IMAGE_TYPES.join(', ')} or application/json, not ${type ? `'${type}'` : 'a body without a content type'}`);
    const parsed = parseAnonymizeOptions(raw);
    await ready;
    if (parsed.faces && why !== null) throw new HttpError(503, why);
    if (parsed.plates && plateWhy !== null) throw new HttpError(503, plateWhy);
    const photo = await decodePhoto(OP, bytes, maxPixels);
    if (type !== 'application/json' && type !== `image/${photo.format}`) throw new HttpError(415, `${OP}: the body is a ${photo.format.toUpperCase()} image but its content type is '${type}'`);
    const r = await inTurn(reply, async () => anonymize(engine, photo.image, {
      ...parsed.options, ...(parsed.faces ? { detector: detector! } : { faces: false }), ...(parsed.plates ? { plates: true, plateDetector: plateDetector! } : {}),
      ...(parsed.verify ? { recognizer: await loadRecognizer() } : {}),
    }));
    const format: PhotoFormat = parsed.format === 'same' ? photo.format : parsed.format;
    const out = Buffer.from(await encodePhoto(r.image, format));
    const rounded = (d: { box: { x: number; y: number; width: number; height: number }; score: number }) =>
      ({ x: round2(d.box.x), y: round2(d.box.y), width: round2(d.box.width), height: round2(d.box.height), score: Math.round(d.score * 1e4) / 1e4 });
    const boxes = r.boxes.map(rounded), plateBoxes = r.plates.map(rounded);
    const measured = r.detections.flatMap((d) => (d.distance !== undefined ? [d.distance] : []));
    // Counted before rounding: 0.60004 no longer matches, though it prints as 0.6.
    const stillMatching = measured.filter((d) => d <= SAME_PERSON_DISTANCE).length;
    const distances = measured.map((d) => Math.round(d * 1e4) / 1e4);
    if (parsed.output === 'json')
      return {
        width: r.image.width, height: r.image.height, format, faces: boxes.length, boxes, ...(parsed.plates ? { plates: plateBoxes.length, plateBoxes } : {}),
        detections: r.detections.map((d) => ({ kind: d.kind, ...rounded(d), ...(d.distance !== undefined ? { distance: Math.round(d.distance * 1e4) / 1e4 } : {}) })),
        ...(parsed.verify ? { stillMatching } : {}), regions: r.regions, image: out.toString('base64'),
      };
    return reply.type(`image/${format}`).headers({
      'x-faces': String(boxes.length), 'x-boxes': JSON.stringify(boxes),
      ...(parsed.plates ? { 'x-plates': String(plateBoxes.length), 'x-plate-boxes': JSON.stringify(plateBoxes) } : {}),
      ...(parsed.verify ? { 'x-distances': JSON.stringify(distances), 'x-still-matching': String(stillMatching) } : {}),
    }).send(out);
  });

  return {
    ready,
    unavailable: () => why,
    platesUnavailable: () => plateWhy,
    async close() {
      await ready;
      // Requests still in turn finish first: their replies need the detector.
      await turn;
      (await recognizer?.catch(() => null))?.dispose();
      detector?.dispose();
      plateDetector?.dispose();
      engine?.dispose();
      detector = null;
      plateDetector = null;
      recognizer = null;
      engine = null;
    },
  };
}
