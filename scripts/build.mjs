// `npm run build`, after `npm run asbuild`: dist/ exactly as the package ships it.
// Usage: node scripts/build.mjs [--out DIR]   (default dist/; expects bindings/generated/ from asbuild)
// tests/package/ builds into a temporary DIR, so a test run never replaces the dist/ in use here.
//
// Always a clean build: an incremental one saves little here (tsc spends its time loading the
// program) and would leave the output of deleted sources in the tarball.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const dist = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist');
const generated = join(root, 'bindings', 'generated');
const started = Date.now();

const needed = ['ops.ts', 'wasm-bytes.ts', 'wgsl.ts', 'inflow-single.wasm', 'inflow-threads.wasm'];
const missing = needed.filter((f) => !existsSync(join(generated, f)));
if (missing.length) {
  console.error(`build: bindings/generated/ lacks ${missing.join(', ')}: run \`npm run asbuild\` first (\`npm run build\` does)`);
  process.exit(1);
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const copy = (from, to, mode) => {
  mkdirSync(dirname(join(dist, to)), { recursive: true });
  copyFileSync(join(root, from), join(dist, to));
  if (mode) chmodSync(join(dist, to), mode);
};
// Browsers fetch these next to wasm-loader.js (new URL('./generated/…', import.meta.url)); Node uses the embedded base64.
copy('bindings/generated/inflow-single.wasm', 'bindings/generated/inflow-single.wasm');
copy('bindings/generated/inflow-threads.wasm', 'bindings/generated/inflow-threads.wasm');
// The default of `inflow demo` (src/cli/commands/demo.ts: ../../../models/ from its own file), and
// the package export inflow/models/finc-mnist.safetensors for pages and examples.
copy('models/finc-mnist.safetensors', 'models/finc-mnist.safetensors');
// The defaults of `inflow upscale | restore | inpaint | anonymize --mode inpaint` and `inflow diffuse eval`'s judge;
// the seed GAN and its judge for package users (inflow/models/seeds-gan.safetensors)
// (src/cli/task-images.ts bundledModel, src/cli/commands/diffuse-eval.ts: ../../models/ from dist/src/cli).
for (const m of ['sr-mnist', 'restore-mnist', 'diffusion-mnist', 'mnist-classifier', 'plate-detector', 'inpaint-photos', 'seeds-gan', 'seed-classifier']) copy(`models/${m}.safetensors`, `models/${m}.safetensors`);
// The bin: it runs the compiled main.js beside it, so an installed package needs no TypeScript loader.
copy('src/cli/inflow.mjs', 'src/cli/inflow.mjs', 0o755);

// The generated modules are string literals (base64 wasm, WGSL text): a map of them maps nothing
// and, with its inlined source, doubles their size in the tarball.
for (const name of ['wasm-bytes', 'wgsl']) {
  const js = join(dist, 'bindings', 'generated', `${name}.js`);
  rmSync(`${js}.map`);
  writeFileSync(js, readFileSync(js, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
}

let files = 0, bytes = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else { files++; bytes += statSync(p).size; }
  }
};
walk(dist);
console.log(`build: ${relative(root, dist) || '.'}/ ${files} files, ${(bytes / 1e6).toFixed(2)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
