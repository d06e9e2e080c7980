/**
 * `inflow serve`: model files over HTTP (fastify). Requests are checked on the main thread, merged
 * into batches (src/serve/batcher.ts) and run by worker threads that each hold an engine and every
 * model (src/serve/pool.ts, src/serve/worker.ts). docs/serve.md describes the API.
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { resolveMemoryBudget } from '../engine/budget.js';
import type { EngineOptions } from '../engine/dispatcher.js';
import { InflowError } from '../engine/errors.js';
import { anonymizeRoute, type AnonymizeRoute } from './anonymize-route.js';
import { Batcher } from './batcher.js';
import { HttpError } from './http-error.js';
import { modelRoutes } from './kinds.js';
import { Metrics } from './metrics.js';
import { WorkerPool } from './pool.js';
import { isFailure, type Endpoint, type ModelRoutes, type ServedModel } from './registry.js';

export interface ServerOptions {
  /** name → model file. */
  models: ReadonlyArray<{ name: string; path: string }>;
  /** Inference workers, each with its own engine and copy of the models. */
  workers: number;
  /** Most images per batch. */
  maxBatch: number;
  /** Longest a request waits for others to share its batch. */
  maxDelayMs: number;
  batching: boolean;
  /** Most requests waiting for a worker. */
  queue: number;
  /** From arrival to response; longer answers 504. */
  timeoutMs: number;
  /** Largest request body in bytes; larger answers 413. */
  bodyLimit: number;
  /** Most images one request may ask for (the memory budget may lower it). */
  maxN: number;
  /** Each worker's engine; threads defaults to 1 when there is more than one worker. */
  engine: Pick<EngineOptions, 'backend' | 'threads' | 'memoryBudget'>;
  /** Pino options for the JSON request log, or false for none. */
  logger: false | { level: string; stream?: NodeJS.WritableStream };
  /** face-api's model folder for POST /anonymize (default: the installed package); false: the route answers 503. */
  faceWeights?: string | false;
  /** The plate detector file for POST /anonymize's plates=true (default: the bundled one); false: plates=true answers 503. */
  plateModel?: string | false;
}

export const defaults = {
  workers: 1, maxBatch: 16, maxDelayMs: 5, batching: true, queue: 256, timeoutMs: 30_000, bodyLimit: 8 * 2 ** 20, maxN: 256,
} as const;

export interface InflowServer {
  app: FastifyInstance;
  models: readonly ServedModel[];
  pool: WorkerPool;
  /** POST /anonymize (src/serve/anonymize-route.ts). */
  anonymizer: AnonymizeRoute;
  /** Resolves when every worker has loaded and warmed up every model; rejects (one line) if one cannot. */
  ready: Promise<void>;
  /** Stops accepting, lets in-flight requests finish, then stops the workers. */
  close(): Promise<void>;
}

/** What a request did, for its log line. */
interface RequestNote { model?: string; endpoint?: string; images?: number; error?: string; err?: Error; done?: boolean; abort: AbortController }
const notes = new WeakMap<FastifyRequest, RequestNote>();
const noteOf = (req: FastifyRequest): RequestNote => {
  let n = notes.get(req);
  if (!n) notes.set(req, (n = { abort: new AbortController() }));
  return n;
};

/** Reads and checks every model file (one-line InflowError naming the --model on a bad one). */
export function inspectModels(models: ServerOptions['models'], opts: Pick<ServerOptions, 'maxN' | 'maxBatch' | 'engine'>): ServedModel[] {
  if (models.length === 0) throw new InflowError('give at least one model: --model <name>=<file>');
  const budget = resolveMemoryBudget(opts.engine.memoryBudget);
  const seen = new Set<string>();
  return models.map(({ name, path }) => {
    if (seen.has(name)) throw new InflowError(`--model ${name}=${path}: the name '${name}' is given twice`);
    seen.add(name);
    let first: unknown = null;
    for (const kind of modelRoutes) {
      let found: ReturnType<ModelRoutes['inspect']>;
      try {
        found = kind.inspect(path, budget);
      } catch (e) {
        first ??= e;
        continue;
      }
      if (found.budgetBatch < 1) throw new InflowError(`--model ${name}=${path}: not even one image fits the memory budget next to the weights (raise --memory-budget)`);
      return {
        name, path, kind: kind.kind, meta: found.meta,
        maxN: Math.min(opts.maxN, found.budgetBatch), maxBatch: Math.min(opts.maxBatch, found.budgetBatch),
      };
    }
    throw new InflowError(`--model ${name}=${path}: ${first instanceof Error ? first.message : String(first)}`);
  });
}

/** The media type of a Content-Type header, lower case, without parameters. */
const mediaType = (header: string | undefined): string | undefined => header?.split(';')[0]!.trim().toLowerCase() || undefined;

const fmtBytes = (b: number): string => (b >= 2 ** 20 ? `${+(b / 2 ** 20).toFixed(1)} MiB` : b >= 2 ** 10 ? `${+(b / 2 ** 10).toFixed(1)} KiB` : `${b} bytes`);

/** A thrown error as the status and one line the client gets; fastify's own errors reworded. */
function describeError(err: FastifyError | Error, req: FastifyRequest, bodyLimit: number): { status: number; message: string; headers?: Record<string, string> } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, headers: err.headers };
  if (err instanceof InflowError) return { status: 400, message: err.message };
  const e = err as FastifyError & { type?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: `unsupported content type '${mediaType(req.headers['content-type']) ?? ''}' (this server reads application/json, image/png, image/jpeg and image/webp)` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: `the body is larger than the limit of ${fmtBytes(bodyLimit)} (--body-limit)` };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'the body is empty but its content type is application/json' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, message: 'the body is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'the body is not as long as its Content-Length says' };
    case 'ECONNRESET':
      return { status: 400, message: 'the client closed the connection before the body arrived' };
  }
  if (e instanceof SyntaxError && e.statusCode === 400) return { status: 400, message: `the body is not valid JSON (${e.message.split('\n')[0]})` };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, message: e.message.split('\n')[0]! };
  return { status: 500, message: `internal error: ${e.message.split('\n')[0]}` };
}

export async function createServer(opts: ServerOptions): Promise<InflowServer> {
  const models = inspectModels(opts.models, opts);
  const byName = new Map(models.map((m) => [m.name, m]));
  const kinds = new Map(modelRoutes.map((k) => [k.kind, k]));
  const engine: EngineOptions = { ...opts.engine, ...(opts.engine.threads === undefined && opts.workers > 1 ? { threads: 1 } : {}) };

  let batcher: Batcher | null = null;
  const pool = new WorkerPool({ engine, models: models.map(({ name, path, kind }) => ({ name, path, kind })) }, opts.workers, {
    memory: (i, m) => metrics.memory(i, m),
    idle: () => batcher?.pump(),
    crashed: (i, reason) => app.log.error({ worker: i }, `worker ${i} stopped: ${reason}; starting a replacement`),
  });
  const metrics = new Metrics({ queueDepth: () => batcher?.depth ?? 0, workersReady: () => pool.readyCount, workersBusy: () => pool.busyCount });
  batcher = new Batcher(pool, { maxDelayMs: opts.maxDelayMs, batching: opts.batching, queue: opts.queue }, (e) => metrics.batch(e));
  const batches = batcher;
  let closing = false;

  const app = Fastify({
    logger: opts.logger === false ? false : { level: opts.logger.level, ...(opts.logger.stream ? { stream: opts.logger.stream } : {}) },
    // One line per request, written by the onResponse hook below, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
  });
  // Schemas document the API (OpenAPI); requests are checked by each endpoint's parse, with the
  // library's guards and their one-line messages, and replies are plain JSON.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addContentTypeParser(['image/png', 'image/jpeg'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /** Counts and logs a request once: when its response is sent, or when its client leaves first (499). */
  const finish = (req: FastifyRequest, reply: FastifyReply, status: number): void => {
    const note = noteOf(req);
    if (note.done) return;
    note.done = true;
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.inFlight.dec();
    metrics.requests.inc({ method: req.method, route, status: String(status) });
    metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const line = {
      method: req.method, url: req.url, statusCode: status, ms: +reply.elapsedTime.toFixed(1),
      ...(note.model ? { model: note.model, endpoint: note.endpoint, ...(note.images ? { images: note.images } : {}) } : {}),
      ...(note.error ? { error: note.error } : {}), ...(note.err ? { err: note.err } : {}),
    };
    // Not ready yet, busy or too slow are the server working as designed: warn, not error.
    if (status >= 500 && status !== 503 && status !== 504) req.log.error(line, 'request');
    else if ((status >= 500 && route !== '/readyz') || status === 499) req.log.warn(line, status === 499 ? 'client closed the connection before the response' : 'request');
    // Load balancers probe these every second or two: at info level they would drown the request log.
    else if (route === '/healthz' || route === '/readyz') req.log.debug(line, 'probe');
    else req.log.info(line, 'request');
  };

  app.addHook('onRequest', async (req, reply) => {
    const note = noteOf(req);
    metrics.inFlight.inc();
    // A response that closes before it finished lost its client (mid-body or while waiting): its
    // job leaves the queue, and fastify's onResponse will not run for it.
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      note.abort.abort(new HttpError(499, 'the client closed the connection'));
      finish(req, reply, 499);
    });
  });
  app.addHook('onResponse', async (req, reply) => finish(req, reply, reply.statusCode));
  // fastify closes idle keep-alive connections when it closes; a request still running then would
  // leave its connection open for the keep-alive timeout (72 s) after its response, holding up the exit.
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, message, headers } = describeError(err as Error, req, opts.bodyLimit);
    const note = noteOf(req);
    note.error = message;
    // The server's own failure: the request's log line carries the stack.
    if (status === 500) note.err = err as Error;
    return reply.code(status).headers(headers ?? {}).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => {
    const message = `no route ${req.method} ${req.url.split('?')[0]} (the API is described at GET /v1/openapi.json)`;
    noteOf(req).error = message;
    return reply.code(404).send({ error: message });
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'inflow serve', version: '1', description: 'Normalizing-flow models over HTTP: sample, score, encode and decode (docs/serve.md).' },
    },
  });

  const errorSchema = { type: 'object', properties: { error: { type: 'string', description: 'one line naming the problem' } } };
  const status = (o: Record<string, unknown>) => ({ type: 'object', properties: Object.fromEntries(Object.keys(o).map((k) => [k, { type: typeof o[k] }])) });

  app.get('/healthz', { schema: { summary: 'Liveness: 200 while the process runs', response: { 200: status({ status: '' }) } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', {
    schema: { summary: 'Readiness: 200 once every worker has loaded and warmed up every model; 503 before and while shutting down', response: { 200: status({ status: '', workers: 0 }), 503: status({ status: '', workers: 0, workersReady: 0 }) } },
  }, async (_req, reply) => {
    if (!closing && pool.ready) return { status: 'ready', workers: pool.size };
    return reply.code(503).send({ status: closing ? 'shutting down' : 'loading', workers: pool.size, workersReady: pool.readyCount });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text format)', response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } } } } }, async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).serializer((s: string) => s).send(text);
  });

  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const modelSchema = { type: 'object', additionalProperties: true, description: 'name, kind, config, parameters, backend, classes, input shape, limits, endpoints' };
  app.get('/v1/models', { schema: { summary: 'The served models', response: { 200: { type: 'object', properties: { models: { type: 'array', items: modelSchema } } } } } },
    async () => ({ models: models.map((m) => kinds.get(m.kind)!.describe(m, pool.backend)) }));

  const modelOf = (name: string): ServedModel => {
    const m = byName.get(name);
    if (!m) throw new HttpError(404, `unknown model '${name}' (served: ${models.map((x) => x.name).join(', ')})`);
    return m;
  };
  app.get<{ Params: { name: string } }>('/v1/models/:name', {
    schema: { summary: 'One served model', params: { type: 'object', properties: { name: { type: 'string' } } }, response: { 200: modelSchema, 404: errorSchema } },
  }, async (req) => { const m = modelOf(req.params.name); return kinds.get(m.kind)!.describe(m, pool.backend); });

  // One route per endpoint name; the model's kind decides what it does (src/serve/registry.ts).
  const endpointNames = [...new Set(modelRoutes.flatMap((k) => k.endpoints.map((e) => e.name)))];
  for (const name of endpointNames) {
    const doc = modelRoutes.flatMap((k) => k.endpoints).find((e) => e.name === name)!;
    app.post<{ Params: { name: string } }>(`/v1/models/:name/${name}`, {
      schema: {
        summary: doc.summary,
        description: doc.description,
        params: { type: 'object', properties: { name: { type: 'string', description: 'a served model' } } },
        body: doc.body,
        response: { ...doc.responses, '4xx': errorSchema, '5xx': errorSchema },
      },
    }, (req, reply) => handle(req, reply, name));
  }

  async function handle(req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply, name: string): Promise<unknown> {
    const model = modelOf(req.params.name);
    const endpoint: Endpoint | undefined = kinds.get(model.kind)!.endpoints.find((e) => e.name === name);
    if (!endpoint) throw new HttpError(404, `model '${model.name}' has no endpoint '${name}'`);
    const note = noteOf(req);
    note.model = model.name;
    note.endpoint = name;
    const type = mediaType(req.headers['content-type']);
    if (!type || !endpoint.consumes.includes(type))
      throw new HttpError(415, `${name} takes ${endpoint.consumes.join(' or ')}, not ${type ? `'${type}'` : 'a body without a content type'}`);
    if (!pool.ready) throw new HttpError(503, 'the models are still loading (GET /readyz says when they are ready)', { 'retry-after': '1' });
    const job = await endpoint.parse({ body: req.body, contentType: type }, model);
    note.images = job.images;
    // One signal for both ends of waiting: the timeout (504) and the client leaving (499, see onRequest).
    const { signal } = note.abort;
    const timer = setTimeout(() => note.abort.abort(timeoutError(opts.timeoutMs)), Math.max(0, opts.timeoutMs - reply.elapsedTime));
    let result: unknown;
    try {
      result = await new Promise<unknown>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        batches.submit(model, endpoint, job, signal).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      clearTimeout(timer);
    }
    // A result can win the race against its own timer when the event loop was busy past the
    // deadline: "longer is answered 504" holds by the clock, not by which callback ran first.
    if (reply.elapsedTime > opts.timeoutMs) throw timeoutError(opts.timeoutMs);
    if (isFailure(result)) throw new HttpError(result.status, result.error);
    return endpoint.reply(result, job, reply, model);
  }

  const anonymizer = anonymizeRoute(app, { engine, queue: opts.queue, timeoutMs: opts.timeoutMs, ...(opts.faceWeights !== undefined ? { weights: opts.faceWeights } : {}),
    ...(opts.plateModel !== undefined ? { plateModel: opts.plateModel } : {}) });

  const ready = pool.start();
  // Callers await `ready`; until they do, a load failure must not be an unhandled rejection.
  ready.catch(() => {});

  return {
    app, models, pool, anonymizer, ready,
    async close() {
      closing = true;
      await app.close();
      batches.rejectAll(new HttpError(503, 'the server is shutting down'));
      await pool.close();
      await anonymizer.close();
    },
  };
}

const timeoutError = (ms: number): HttpError => new HttpError(504, `the request did not finish within ${ms} ms (--timeout-ms)`);
