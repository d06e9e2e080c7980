// The browser build of the library: src/browser.ts as an ES module with every export kept, the
// wasm modules as assets next to it (fetched at run time), the WebGPU backend and the embedded-wasm
// fallback as chunks loaded only on demand. Not Vite's library mode: that inlines every asset.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildBrowserLibrary(outDir = join(root, 'out', 'browser')): Promise<string> {
  await build({
    configFile: false,
    root,
    base: './',
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      copyPublicDir: false,
      modulePreload: false,
      rolldownOptions: {
        input: { inflow: join(root, 'src', 'browser.ts') },
        preserveEntrySignatures: 'strict',
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', assetFileNames: 'assets/[name]-[hash][extname]' },
      },
    },
  });
  return outDir;
}
