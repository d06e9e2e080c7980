import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import { CHROMIUM, chromiumArgs, chromiumMissing } from './chromium.js';
import { modelsUnderTest } from './model.js';
import { demoState, openDemo, removeWebGPU, waitForBatches, waitForError, type OpenedPage } from './pages.js';
import { serveStatic, type StaticServer } from './server.js';

// The demo page (web/) built with Vite, served on 127.0.0.1, driven in headless Chromium.
const missing = chromiumMissing();
const required = process.env.INFLOW_REQUIRE_WEBGPU === '1';
if (missing) {
  const why = `browser suite skipped: ${missing} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
  if (required) throw new Error(why);
  console.warn(why);
}

const outputDir = fileURLToPath(new URL('./output/', import.meta.url));
const BUNDLED_MODEL = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));
const SEED = 3, N = 2, T = 0.7;
const DISPLAY = 'test-model.safetensors', SMALL = 'small-model.safetensors';
const query = (backend: string, model = DISPLAY, n = N) => `?backend=${backend}&model=${model}&n=${n}&seed=${SEED}&temperature=${T}`;

describe.skipIf(!!missing)('demo page in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let webgpuFlow: number[] | null = null;
  /** The display model is models/finc-mnist.safetensors, whose readings the test can expect. */
  let bundledDisplay = false;
  const opened: OpenedPage[] = [];

  beforeAll(async () => {
    const [{ build }, { chromium }, models] = await Promise.all([import('vite'), import('playwright-core'), modelsUnderTest()]);
    console.log(`browser suite: model ${models.display.name}`);
    bundledDisplay = models.display.name === BUNDLED_MODEL;
    const site = `${outputDir}site`;
    mkdirSync(outputDir, { recursive: true });
    await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir: site } });
    const generated = (f: string) => readFileSync(fileURLToPath(new URL(`../../bindings/generated/${f}`, import.meta.url)));
    server = await serveStatic(site, {
      [DISPLAY]: models.display.bytes,
      [SMALL]: models.small,
      'cdn/inflow-single.wasm': generated('inflow-single.wasm'),
      'cdn/inflow-threads.wasm': generated('inflow-threads.wasm'),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const open = async (url: string): Promise<Page> => {
    const o = await openDemo(browser, url);
    opened.push(o);
    return o.page;
  };

  it('samples on WebGPU (SwiftShader) when asked for webgpu', async (ctx) => {
    const page = await open(server.isolated + query('webgpu'));
    const s = await waitForBatches(page, 1, 90_000);
    if (s.error && /navigator\.gpu|requestAdapter|adapter/.test(s.error) && !required) {
      console.warn(`browser WebGPU test skipped: ${s.error} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)`);
      await page.close();
      ctx.skip();
    }
    expect(s.error).toBeNull();
    expect(s.info!.backend).toBe('webgpu');
    expect(s.samples!.shape).toEqual([N, 1, 28, 28]);
    expect(s.samples!.flow.every(Number.isFinite)).toBe(true);
    webgpuFlow = s.samples!.flow;
    await page.close();
  });

  it('wasm gives the same samples for the same seed, on threads when cross-origin isolated', async () => {
    const page = await open(server.isolated + query('wasm'));
    const s = await waitForBatches(page, 1);
    expect(s.error).toBeNull();
    expect(s.info!.backend).toBe('wasm');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(s.info!.details).toMatchObject({ simd: true, threads: cores, sharedMemory: cores > 1 });
    if (webgpuFlow || required) {
      expect(webgpuFlow, 'the webgpu test produced no samples').not.toBeNull();
      expect(worstMismatch(s.samples!.flow, webgpuFlow!, tolerance.webgpu)).toBeNull();
    }
    await page.close();
  });

  it('samples a grid, times first and warm batches, scores the drawing pad; screenshot saved', async () => {
    const page = await open(server.isolated + query('auto', DISPLAY, 16));
    await page.setViewportSize({ width: 1280, height: 800 });
    let s = await waitForBatches(page, 1);
    expect(s.error).toBeNull();
    await page.click('#sample');
    s = await waitForBatches(page, 2);
    expect(s.warmBatchMs).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#timing').textContent()).toMatch(/first batch .* warm batch /);
    await expect.poll(() => page.locator('#engine-info').textContent()).toContain(`backend: ${s.info!.backend}`);

    // An empty pad is not scored (it was once read as a "1" with p 0.99 at 0.095 bits/dim): it asks for a digit.
    await page.click('#score');
    await expect.poll(() => page.locator('#pad-status').textContent()).toBe('draw a digit');
    expect(await page.locator('#bpd').textContent()).toBe('–');
    expect(await page.locator('#reading').isHidden()).toBe(true);
    expect((await demoState(page)).score).toBeNull();
    await drawSeven(page);
    const drawn = await scoreChange(page, null);
    expect(Number.isFinite(drawn)).toBe(true);
    await expect.poll(() => page.locator('#bpd').textContent()).toBe(drawn.toFixed(3));
    expect(await page.locator('#pad-status').isHidden()).toBe(true);
    const after = await demoState(page);
    const ink = after.scoreInput!.filter((v) => v > 128).length;
    expect(ink).toBeGreaterThan(20);
    // The model sees the drawing framed as MNIST digits are: ink within a 20 × 20 box, centre of mass near (14, 14).
    const framing = frame(after.scoreInput!);
    expect(Math.max(framing.width, framing.height)).toBe(20);
    expect(Math.hypot(framing.cx - 14, framing.cy - 14)).toBeLessThanOrEqual(1);
    // encode → decode is the identity up to float error: the reconstruction is the drawing
    expect(worstMismatch(after.score!.reconstruction, after.scoreInput!, { abs: 0.5, rel: 0 })).toBeNull();

    if (s.info!.classes) {
      // A class-conditional model reads the drawing by Bayes' rule, and the digit picker reaches the sampler.
      const probs = after.score!.classProbs;
      expect(probs).toHaveLength(s.info!.classes);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      const read = probs.indexOf(Math.max(...probs));
      console.log(`the demo's model reads the drawn 7 as ${read} (p ${probs[read]!.toFixed(3)})`);
      // Unframed, the bundled flow read this large 7 as a 1 (issue 12).
      if (bundledDisplay) expect(read).toBe(7);
      await expect.poll(() => page.locator('#reading-digit').textContent()).toBe(`${read} (p ${probs[read]!.toFixed(2)})`);
      const unconditioned = after.samples!.flow;
      await page.selectOption('#digit', '3');
      const three = await waitForBatches(page, 3);
      expect(three.error).toBeNull();
      expect(maxDiff(three.samples!.flow, unconditioned)).toBeGreaterThan(0.1);
    } else expect(await page.locator('#digit-label').isHidden()).toBe(true);

    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${outputDir}demo.png`, fullPage: true });
  });

  it('without navigator.gpu (page and workers) auto runs on wasm, and asking for webgpu says why', async () => {
    const context = await browser.newContext();
    await context.addInitScript(removeWebGPU);
    try {
      const before = server.requests.length;
      const auto = await openDemo(context, server.isolated + query('auto', SMALL));
      opened.push(auto);
      const s = await waitForBatches(auto.page, 1);
      expect(s.error).toBeNull();
      expect(s.info!.backend).toBe('wasm');
      expect(s.info!.rejected.webgpu).toMatch(/navigator\.gpu/);
      expect(await auto.page.evaluate(() => 'gpu' in navigator)).toBe(false);
      const fetched = server.requests.slice(before);
      expect(fetched.some((p) => /\/worker-[\w-]+\.js$/.test(p)), 'the engine worker was not fetched').toBe(true);
      expect(fetched.filter((p) => /webgpu/i.test(p)), 'a CPU-only page must not download the WebGPU backend').toEqual([]);
      // The wasm module arrives as its own file, not as the base64 fallback chunk.
      expect(fetched.some((p) => /inflow-threads-[\w-]+\.wasm$/.test(p))).toBe(true);
      expect(fetched.filter((p) => /wasm-bytes/.test(p))).toEqual([]);

      const gpu = await context.newPage();
      await gpu.goto(server.isolated + query('webgpu', SMALL));
      expect(await waitForError(gpu)).toMatch(/Could not start: .*navigator\.gpu/);
    } finally {
      await context.close();
    }
  });

  it('without cross-origin isolation wasm runs on one thread with one console warning; kernels from a chosen URL', async () => {
    const before = server.requests.length;
    const o = await openDemo(browser, server.plain + query('wasm', SMALL) + '&wasm=cdn/');
    opened.push(o);
    const s = await waitForBatches(o.page, 1);
    expect(s.error).toBeNull();
    expect(s.info!.details).toMatchObject({ threads: 1, sharedMemory: false });
    const count = (list: string[]) => list.filter((w) => w.startsWith('inflow: WebAssembly runs on one thread')).length;
    expect(Math.max(count(o.warnings.page), count(o.warnings.workers))).toBe(1);
    expect(server.requests.slice(before).filter((p) => p.endsWith('.wasm'))).toEqual(['/cdn/inflow-single.wasm']);
    await o.page.close();
  });

  it('a wasm URL that does not load is a readable message on the page', async () => {
    const page = await browser.newPage();
    await page.goto(server.isolated + query('wasm', SMALL) + '&wasm=nowhere/');
    expect(await waitForError(page)).toMatch(/cannot load the single wasm module from http:\/\/127\.0\.0\.1:\d+\/nowhere\/inflow-single\.wasm: HTTP 404/);
    await page.close();
  });

  it('a model URL that does not load is a readable message on the page', async () => {
    const page = await browser.newPage();
    await page.goto(server.isolated + '?backend=wasm&model=no-such-model.safetensors');
    expect(await waitForError(page)).toMatch(/no-such-model\.safetensors: the model could not be downloaded \(HTTP 404/);
    await page.close();
  });

  it('logs no console errors', () => {
    expect(opened.flatMap((o) => o.errors)).toEqual([]);
  });
});

/** Waits for a bits/dim different from `previous` (a new score) and returns it. */
async function scoreChange(page: Page, previous: number | null): Promise<number> {
  await page.waitForFunction((prev) => {
    const s = (window as unknown as { inflowDemo: { score: { bitsPerDim: number } | null } }).inflowDemo.score;
    return !!s && s.bitsPerDim !== prev && document.body.dataset.state !== 'busy';
  }, previous, { timeout: 30_000 });
  return (await demoState(page)).score!.bitsPerDim;
}

/** A "7": a bar across the top, then a slanted stroke down, as mouse strokes on the pad. */
async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  const stroke = async (points: Array<[number, number]>) => {
    await page.mouse.move(...at(...points[0]!));
    await page.mouse.down();
    for (const p of points.slice(1)) await page.mouse.move(...at(...p), { steps: 8 });
    await page.mouse.up();
  };
  await stroke([[0.25, 0.22], [0.75, 0.22], [0.45, 0.85]]);
}

/** Bounding box of the ink (pixels above the ½ of dequantisation) and its centre of mass, pixel i spanning [i, i + 1). */
function frame(input: readonly number[], W = 28): { width: number; height: number; cx: number; cy: number } {
  let x0 = W, x1 = -1, y0 = W, y1 = -1, mass = 0, mx = 0, my = 0;
  input.forEach((v, p) => {
    const ink = v - 0.5, x = p % W, y = Math.floor(p / W);
    if (ink <= 0) return;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    mass += ink; mx += ink * (x + 0.5); my += ink * (y + 0.5);
  });
  return { width: x1 - x0 + 1, height: y1 - y0 + 1, cx: mx / mass, cy: my / mass };
}

const maxDiff = (a: readonly number[], b: readonly number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
