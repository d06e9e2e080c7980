import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const modelsDir = join(here, '..', 'models');

/**
 * Cross-origin isolation gives the page SharedArrayBuffer, hence wasm threads. Everything the demo
 * loads is same-origin, so require-corp costs nothing.
 */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Serves the repository's models/ at ./models/ (dev and preview) and copies its model files into a build. */
function bundledModels(): Plugin {
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const m = /^\/models\/([\w.-]+\.safetensors)(?:\?.*)?$/.exec(req.url ?? '');
    if (!m) return next();
    const file = join(modelsDir, m[1]!);
    // A plain 404: Vite's SPA fallback would answer index.html, which fails later as a corrupt model.
    if (!existsSync(file)) {
      res.statusCode = 404;
      res.end(`models/${m[1]} does not exist in this checkout`);
      return;
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    res.end(readFileSync(file));
  };
  return {
    name: 'inflow-bundled-models',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
    generateBundle() {
      if (!existsSync(modelsDir)) return;
      for (const f of readdirSync(modelsDir).filter((n) => n.endsWith('.safetensors')))
        this.emitFile({ type: 'asset', fileName: `models/${f}`, source: readFileSync(join(modelsDir, f)) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [bundledModels()],
  // The demo runs on the library's source (no build step); package.json "exports" point at dist/.
  resolve: { alias: [{ find: /^inflow$/, replacement: join(here, '..', 'src', 'browser.ts') }] },
  // The engine worker splits the WebGPU backend into its own chunk: only ES-module workers can.
  worker: { format: 'es' },
  server: { host: '127.0.0.1', headers: isolationHeaders },
  preview: { host: '127.0.0.1', headers: isolationHeaders },
  build: { outDir: join(here, '..', 'out', 'web'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
});
