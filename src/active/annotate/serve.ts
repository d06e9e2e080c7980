import type { AddressInfo } from 'node:net';
import { InflowError } from '../../engine/errors.js';
import { annotationServer } from './server.js';
import type { AnnotationSession } from './session.js';

/**
 * Serves the annotation page until SIGINT or SIGTERM: starts the engine worker (an engine that
 * cannot start fails here, in one line), listens, prints one line with the address, and on a signal
 * stops listening and lets a running round finish. The labels are on disk after every submit, so
 * stopping loses none.
 */
export async function serveAnnotation(session: AnnotationSession, host: string, port: number): Promise<void> {
  try {
    await session.start();
  } catch (e) {
    await session.close();
    throw new InflowError(`the engine worker could not start: ${(e as Error).message}`);
  }
  const app = annotationServer(session, { level: 'warn', stream: process.stderr });
  try {
    await app.listen({ host, port });
  } catch (e) {
    await session.close();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.message;
    throw new InflowError(`cannot listen on ${host}:${port}: ${why}`);
  }
  const bound = (app.server.address() as AddressInfo).port;
  process.stdout.write(`inflow active-learn: annotation page on http://${host.includes(':') ? `[${host}]` : host}:${bound}/ (Ctrl-C to stop; labels are saved after every submit)\n`);
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      app.close().then(() => session.close()).then(resolve, reject);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
