/**
 * `inflow active-learn --serve`: the annotation page and its JSON API, on fastify like `inflow serve`
 * (src/serve/server.ts), with its HttpError and one-line `{ error }` replies. docs/active-learning.md §7.
 *
 *   GET  /                   the page (src/active/annotate/page.ts)
 *   GET  /api/state          phase, the batch to label, class names, progress, accuracy history
 *   GET  /api/images/:i.png  pool image i
 *   POST /api/labels         { labels: [{ index, label }], batch? } → 202 { accepted, nextBatch }
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { HttpError } from '../../serve/http-error.js';
import { annotationPage } from './page.js';
import type { AnnotationSession } from './session.js';

/** A thrown error as the status and one line; fastify's own body errors are the client's (400/413/415). */
function describe(err: FastifyError | Error): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  const e = err as FastifyError;
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e instanceof SyntaxError && e.statusCode === 400)) return { status: 400, message: 'the body is not valid JSON' };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, message: e.message.split('\n')[0]! };
  return { status: 500, message: `internal error: ${e.message.split('\n')[0]}` };
}

export function annotationServer(session: AnnotationSession, logger: false | { level: string; stream?: NodeJS.WritableStream } = false): FastifyInstance {
  const app = Fastify({ logger: logger === false ? false : { level: logger.level, ...(logger.stream ? { stream: logger.stream } : {}) }, bodyLimit: 1 << 20 });
  app.setErrorHandler((err, _req, reply) => {
    const { status, message } = describe(err as Error);
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(annotationPage));
  app.get('/api/state', async (_req, reply) => reply.header('cache-control', 'no-store').send(session.state()));
  app.get<{ Params: { file: string } }>('/api/images/:file', async (req, reply) => {
    const m = /^(\d{1,9})\.png$/.exec(req.params.file);
    if (!m) throw new HttpError(404, `no image ${req.params.file} (images are /api/images/<pool index>.png)`);
    return reply.type('image/png').send(Buffer.from(await session.thumbnail(Number(m[1]))));
  });
  app.post('/api/labels', async (req, reply) => reply.code(202).send(session.submit(req.body)));
  return app;
}
