// The package as a user installs it: `npm pack`, a fresh project, `npm ci --offline` of the tarball
// (no tsx, no TypeScript loader), then plain Node (ESM and CommonJS), a TypeScript consumer against
// the shipped .d.ts, and a Vite-bundled page in headless Chromium. One pack and install is shared.
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumArgs, chromiumMissing } from '../browser/chromium.js';
import { serveStatic } from '../browser/server.js';
import { buildAndPack, installConsumer, ok, repo, run, type Packed } from './project.js';

const examples = ['engine.mjs', 'library-node.mjs', 'bundled-model.mjs'];
// Timeouts for the slow steps allow for the other suites sharing two cores during `npm test`.

const files: Record<string, string> = {
  ...Object.fromEntries(examples.map((f) => [f, readFileSync(join(repo, 'examples', f), 'utf8')])),

  // require() of an ES module only works on some Node versions; import() works on every one.
  'cjs/package.json': JSON.stringify({ type: 'commonjs' }),
  'cjs/index.js': `
const { version } = require('inflow/package.json');
import('inflow').then(async ({ createEngine, matmul }) => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const a = engine.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
  console.log(JSON.stringify({ version, product: Array.from(await matmul(a, a).data()), backend: engine.info().backend }));
  engine.dispose();
});
`,

  // Node resolution picks node.d.ts: path-based loadModel, inspectModelFile, the MNIST loader.
  'ts/node.ts': `
import { createEngine, inspectModelFile, loadModel, mnistSplit, models, type Engine, type Tensor } from 'inflow';
const engine: Engine = await createEngine({ backend: 'wasm', threads: 1 });
const flow = models.fincFlow('tiny', { engine, seed: 0 });
const x: Tensor = await flow.sample(2, { temperature: 0.7 });
const again = await loadModel('model.safetensors', { engine });
const bpd: Tensor = again.bitsPerDim(x);
const count: number = mnistSplit().test.count + inspectModelFile('model.safetensors').params;
// @ts-expect-error: not a backend
await createEngine({ backend: 'cuda' });
// @ts-expect-error: a URL is for the browser entry
await loadModel(new URL('https://example.com/m.safetensors'), { engine });
export { bpd, count };
`,
  'ts/tsconfig.node.json': JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
    files: ['node.ts'],
  }),
  // A bundler project gets browser.d.ts: URLs and bytes for models, setWasmUrls, nothing Node-only.
  'ts/browser.ts': `
import { createEngine, loadModel, setWasmUrls, type Tensor } from 'inflow';
// @ts-expect-error: the MNIST loader reads files, so only the Node entry has it
import { mnistSplit } from 'inflow';
setWasmUrls({ single: '/wasm/inflow-single.wasm' });
const engine = await createEngine();
const model = await loadModel(new URL('/models/finc-mnist.safetensors', location.href), { engine });
const x: Tensor = await model.sample(4, { labels: [3] });
export { x, mnistSplit };
`,
  'ts/tsconfig.browser.json': JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: false, types: [] },
    files: ['browser.ts'],
  }),

  // The README's browser snippet with a model the bundler takes from the package (?url), plus one op.
  'web/index.html': '<!doctype html>\n<html><head><meta charset="utf-8"><title>inflow from npm</title><link rel="icon" href="data:,"></head>\n<body><script type="module" src="./main.js"></script></body></html>\n',
  'web/main.js': `
import { createEngine, loadModel, matmul } from 'inflow';
import modelUrl from 'inflow/models/finc-mnist.safetensors?url';

async function run() {
  const engine = await createEngine();
  const a = engine.tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
  const product = Array.from(await matmul(a, a).data());
  const model = await loadModel(modelUrl, { engine });
  const x = await model.sample(4, { labels: [3], temperature: 0.7, seed: 1 });
  const pixels = await x.data();
  const info = engine.info();
  engine.dispose();
  return { backend: info.backend, details: info.details, product, shape: x.shape, meanPixel: pixels.reduce((s, v) => s + v, 0) / pixels.length };
}
run().then((r) => { window.result = r; }, (e) => { window.result = { error: String((e && e.stack) || e) }; });
`,
};

const browserMissing = chromiumMissing();
if (browserMissing) {
  const why = `package browser test skipped: ${browserMissing} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
  if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(why);
  console.warn(why);
}

describe('the packed package in a fresh project', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-package-'));
  const project = join(dir, 'consumer');
  const installed = join(project, 'node_modules', 'inflow');
  const timings: string[] = [];
  let packed: Packed;

  beforeAll(async () => {
    packed = await buildAndPack(dir);
    const install = await installConsumer(project, packed.tarball, files);
    timings.push(`build ${(packed.buildMs / 1000).toFixed(1)} s`, `pack ${(packed.packMs / 1000).toFixed(1)} s`, `install ${(install.ms / 1000).toFixed(1)} s`);
  }, 420_000);

  afterAll(() => {
    if (packed) console.log(`package: tarball ${(packed.bytes / 1e6).toFixed(2)} MB, ${packed.files} files; ${timings.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships compiled JavaScript, declarations, both wasm modules and the bundled model, and no TypeScript source', () => {
    const list = (d: string): string[] => readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? list(join(d, e.name)).map((f) => `${e.name}/${f}`) : [e.name]));
    const shipped = list(installed);
    expect(shipped.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
    expect(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const f of ['dist/src/node.js', 'dist/src/node.d.ts', 'dist/src/browser.js', 'dist/src/browser.d.ts', 'dist/src/node.js.map',
      'dist/bindings/generated/inflow-single.wasm', 'dist/bindings/generated/inflow-threads.wasm', 'dist/bindings/webgpu-node.js',
      'dist/models/finc-mnist.safetensors', 'dist/src/cli/inflow.mjs', 'dist/src/cli/main.js'])
      expect(shipped, f).toContain(f);
    // The runtime needs no TypeScript loader: tsx is a devDependency and is not installed.
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false);
  });

  it('runs every example with plain node (ESM)', async () => {
    const results = [];
    for (const f of examples) {
      const r = await run(process.execPath, [f], project);
      expect(r.code, `${f}\n${r.stdout}\n${r.stderr}`).toBe(0);
      results.push(`${f} ${(r.ms / 1000).toFixed(1)} s`);
      if (f === 'engine.mjs') expect(r.stdout).toMatch(/^0\.\d+ \{ backend: 'wasm', tensors: \d+/);
      if (f === 'library-node.mjs') expect(r.stdout).toMatch(/reloaded from .*: (\d+\.\d+) bits\/dim/);
      if (f === 'bundled-model.mjs') {
        const bpd = Number(/100 held-out digits: (\d+\.\d+) bits\/dim/.exec(r.stdout)?.[1]);
        expect(bpd, r.stdout).toBeGreaterThan(1.0);
        expect(bpd).toBeLessThan(1.4);
      }
    }
    timings.push(`examples: ${results.join(', ')}`);
  }, 300_000);

  it('loads from a CommonJS project through import()', async () => {
    const r = await ok(process.execPath, ['index.js'], join(project, 'cjs'));
    expect(JSON.parse(r.stdout)).toEqual({ version: JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version, product: [7, 10, 15, 22], backend: 'wasm' });
  });

  it('runs the inflow command from compiled JavaScript, with the bundled model as the demo default', async () => {
    const bin = join(project, 'node_modules', '.bin', 'inflow');
    const r = await ok(bin, ['inspect', join(installed, 'dist', 'models', 'finc-mnist.safetensors')], project);
    expect(r.stdout).toMatch(/316,168 parameters/);
    const help = (await ok(bin, ['demo', '--help'], project)).stdout.replace(/\s+/g, ' ');
    const model = /--model <file> .*?\(default: "([^"]+)"\)/.exec(help)?.[1];
    expect(model, help).toBe(realpathSync(join(installed, 'dist', 'models', 'finc-mnist.safetensors')));
    // The image tasks' default models ship too: upscale runs with no --model.
    const sharp = (await import('sharp')).default;
    await sharp(new Uint8Array(49).map((_, i) => (i * 37) % 256), { raw: { width: 7, height: 7, channels: 1 } }).png().toFile(join(project, 'lr.png'));
    const up = await ok(bin, ['upscale', 'lr.png', '--steps', '2', '--backend', 'wasm', '--threads', '1'], project);
    expect(up.stdout).toMatch(/7×7 → 28×28 \(×4, ddpm 2 steps; seed 0\) .* → lr-upscaled.png/);
    for (const m of ['sr-mnist', 'restore-mnist', 'diffusion-mnist', 'mnist-classifier']) expect(existsSync(join(installed, 'dist', 'models', `${m}.safetensors`)), m).toBe(true);
  });

  it('type-checks a TypeScript consumer against the shipped .d.ts (Node and bundler resolution)', async () => {
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const [node, browser] = await Promise.all(['node', 'browser'].map((c) => run(process.execPath, [tsc, '-p', `tsconfig.${c}.json`], join(project, 'ts'))));
    expect(node!.code, node!.stdout).toBe(0);
    expect(browser!.code, browser!.stdout).toBe(0);
    timings.push(`tsc ${(Math.max(node!.ms, browser!.ms) / 1000).toFixed(1)} s`);
  }, 300_000);

  it.skipIf(!!browserMissing)('bundles a page with Vite that runs a model in headless Chromium', async () => {
    const vite = join(repo, 'node_modules', 'vite', 'bin', 'vite.js');
    const built = await ok(process.execPath, [vite, 'build', '--logLevel', 'warn'], join(project, 'web'));
    const site = join(project, 'web', 'dist');
    const assets = readdirSync(join(site, 'assets'));
    expect(assets.filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
    expect(assets.some((f) => f.endsWith('.safetensors'))).toBe(true);
    const server = await serveStatic(site);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
    const started = performance.now();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.goto(server.isolated);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result, null, { timeout: 60_000 });
      const result = await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
      expect(result.error, String(result.error)).toBeUndefined();
      expect(result).toMatchObject({ backend: 'wasm', product: [7, 10, 15, 22], shape: [4, 1, 28, 28] });
      expect(result.meanPixel).toBeGreaterThan(5);
      expect(result.meanPixel).toBeLessThan(120);
      expect(errors).toEqual([]);
      // The bundler emitted the wasm as a file and the page fetched it: the base64 fallback chunk stayed unused.
      expect(server.requests.some((p) => p.endsWith('.wasm'))).toBe(true);
      expect(server.requests.some((p) => /wasm-bytes/.test(p))).toBe(false);
    } finally {
      await browser.close();
      await server.close();
    }
    timings.push(`vite ${(built.ms / 1000).toFixed(1)} s, chromium ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
});
