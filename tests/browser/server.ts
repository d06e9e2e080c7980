import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
};

export interface StaticServer {
  /** http://127.0.0.1:PORT/ — cross-origin isolated (COOP/COEP). */
  isolated: string;
  /** The same files under /plain/, without COOP/COEP: no SharedArrayBuffer, so single-thread wasm. */
  plain: string;
  /** Every path requested so far, in order (without the /plain prefix). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves a built demo on 127.0.0.1 (a secure context, so WebGPU is exposed) with `files` added at
 * the root, e.g. the model under test.
 */
export async function serveStatic(root: string, files: Record<string, Uint8Array> = {}): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const isolated = !path.startsWith('/plain/');
    if (!isolated) path = path.slice('/plain'.length);
    if (path.endsWith('/')) path += 'index.html';
    requests.push(path);
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    let body: Uint8Array | undefined = files[path.slice(1)];
    if (!body) {
      const file = normalize(join(root, path));
      if (!file.startsWith(normalize(root))) body = undefined;
      else body = await readFile(file).catch(() => undefined);
    }
    if (!body) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    headers['Content-Type'] = types[extname(path)] ?? 'application/octet-stream';
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    isolated: `http://127.0.0.1:${port}/`,
    plain: `http://127.0.0.1:${port}/plain/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
