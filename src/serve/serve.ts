import type { AddressInfo } from 'node:net';
import { InflowError } from '../engine/errors.js';
import { createServer, type ServerOptions } from './server.js';

export interface ServeOptions extends ServerOptions {
  host: string;
  /** 0: any free port (the printed line says which). */
  port: number;
}

/**
 * Runs a server until SIGTERM or SIGINT, then shuts down gracefully: the listening socket closes
 * at once (new connections are refused), requests in flight finish, the workers free their
 * engines, and the promise resolves (exit code 0). A second signal exits at once. Prints one line
 * to stdout when listening; everything else goes to the JSON log on stderr.
 */
export async function serve(opts: ServeOptions): Promise<void> {
  const server = await createServer(opts);
  const { app } = server;
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await server.pool.close();
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.message;
    throw new InflowError(`cannot listen on ${opts.host}:${opts.port}: ${why}`);
  }
  const { port } = app.server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(`inflow serve: listening on http://${host}:${port}\n`);

  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string, failure?: Error): void => {
      if (stopping) {
        app.log.warn(`${signal} again: exiting without waiting for requests in flight`);
        process.exit(1);
      }
      stopping = true;
      if (failure) app.log.error(failure.message);
      else app.log.info(`${signal}: refusing new connections, finishing requests in flight`);
      server.close().then(() => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        if (failure) reject(failure);
        else {
          app.log.info('shut down');
          resolve();
        }
      }, reject);
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    server.ready.then(
      () => app.log.info({ workers: server.pool.size, backend: server.pool.backend, models: server.models.map((m) => m.name) }, 'ready'),
      (e: Error) => stop('startup', new InflowError(`the models could not be loaded in a worker: ${e.message}`)),
    );
  });
}
