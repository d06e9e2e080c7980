// `npm run size`: gzip sizes of the browser build (web/browser-build.mjs), model weights excluded.
// Exits 1 when core JS + the wasm module a page loads exceed the budget.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildBrowserLibrary } from './browser-build.js';

const BUDGET_KB = 300;
const outDir = await buildBrowserLibrary();

const files: string[] = [];
const walk = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (!name.endsWith('.json')) files.push(path);
  }
};
walk(outDir);

const kb = (n: number): number => n / 1024;
const measured = files.map((path) => {
  const bytes = readFileSync(path);
  const name = relative(outDir, path);
  const kind = name.endsWith('.wasm') ? (name.includes('threads') ? 'wasm (threads)' : 'wasm (single)')
    : /webgpu/.test(name) ? 'webgpu' : /wasm-bytes/.test(name) ? 'embedded-wasm fallback' : 'core';
  return { name, kind, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});

const sum = (kind: string, key: 'bytes' | 'gzip'): number => measured.filter((f) => f.kind === kind).reduce((s, f) => s + f[key], 0);
const row = (label: string, kind: string, note: string): string => `| ${label} | ${kb(sum(kind, 'bytes')).toFixed(1)} KB | ${kb(sum(kind, 'gzip')).toFixed(1)} KB | ${note} |`;
const wasmGzip = Math.max(sum('wasm (single)', 'gzip'), sum('wasm (threads)', 'gzip'));
const total = sum('core', 'gzip') + wasmGzip;

const table = [
  '| part | raw | gzip | loaded |',
  '|---|---|---|---|',
  row('core JS (engine, ops, layers, models, model files, wasm backend glue)', 'core', 'always'),
  row('wasm module, single-thread', 'wasm (single)', 'pages without COOP/COEP'),
  row('wasm module, threads', 'wasm (threads)', 'cross-origin-isolated pages'),
  row('WebGPU backend chunk (kernels + WGSL)', 'webgpu', 'only when WebGPU is tried'),
  row('embedded-wasm fallback chunk', 'embedded-wasm fallback', 'only if the .wasm fetch fails'),
  `| **core JS + wasm** | | **${kb(total).toFixed(1)} KB** | budget ${BUDGET_KB} KB |`,
].join('\n');

console.log(table);
for (const f of measured) console.log(`  ${f.name}: ${f.bytes} B, gzip ${f.gzip} B (${f.kind})`);
writeFileSync(join(outDir, 'size.json'), JSON.stringify({ budgetKB: BUDGET_KB, coreAndWasmGzipKB: +kb(total).toFixed(2), files: measured }, null, 2));
if (kb(total) > BUDGET_KB) {
  console.error(`core JS + wasm is ${kb(total).toFixed(1)} KB gzip, over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
