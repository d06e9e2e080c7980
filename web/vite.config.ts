import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
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

/** The photo panel's face-api files (web/anonymize-panel.ts): the TinyFaceDetector and the recognition network of the identity check, from the installed @vladmandic/face-api (MIT), with its licence. */
const FACE_API_FILES = [
  'tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin',
  'face_recognition_model-weights_manifest.json', 'face_recognition_model.bin',
];

/**
 * Serves those face-api weights at ./face-api/ (dev and preview) and copies them into a
 * build, straight from node_modules: the weights are never committed to this repository.
 */
function faceApiWeights(): Plugin {
  let root: string | null = null;
  try {
    root = dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
  } catch {
    // Not installed: the panel then reports that the detector could not be downloaded.
  }
  const source = (name: string): string | null => {
    if (!root) return null;
    const file = name === 'LICENSE' ? join(root, 'LICENSE') : FACE_API_FILES.includes(name) ? join(root, 'model', name) : null;
    return file && existsSync(file) ? file : null;
  };
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const m = /^\/face-api\/([\w.-]+)(?:\?.*)?$/.exec(req.url ?? '');
    if (!m) return next();
    const file = source(m[1]!);
    if (!file) {
      res.statusCode = 404;
      res.end(`face-api/${m[1]} is not served (is @vladmandic/face-api installed?)`);
      return;
    }
    res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    res.end(readFileSync(file));
  };
  return {
    name: 'inflow-face-api-weights',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
    generateBundle() {
      for (const name of [...FACE_API_FILES, 'LICENSE']) {
        const file = source(name);
        if (file) this.emitFile({ type: 'asset', fileName: `face-api/${name}`, source: readFileSync(file) });
        else this.warn(`face-api/${name}: @vladmandic/face-api is not installed; the photo panel will not find its face detector`);
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [bundledModels(), faceApiWeights()],
  // The demo runs on the library's source (no build step); package.json "exports" point at dist/.
  resolve: { alias: [{ find: /^inflow$/, replacement: join(here, '..', 'src', 'browser.ts') }] },
  // The engine worker splits the WebGPU backend into its own chunk: only ES-module workers can.
  worker: { format: 'es' },
  server: { host: '127.0.0.1', headers: isolationHeaders },
  preview: { host: '127.0.0.1', headers: isolationHeaders },
  build: { outDir: join(here, '..', 'out', 'web'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1024 },
});
