import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { anonymize } from '../../src/anonymize/anonymize-node.js';
import type { FillMode } from '../../src/anonymize/anonymize.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { iou } from '../../src/models/detect/box.js';
import { MAX_PHOTO_PIXELS } from '../../web/anonymize-inputs.js';
import { pasteScenes } from '../../src/models/plates/pasted-scenes.js';
import { CHROMIUM, chromiumArgs, chromiumMissing } from './chromium.js';
import { modelsUnderTest } from './model.js';
import { openDemo, waitForBatches, type OpenedPage } from './pages.js';
import { serveStatic, type StaticServer } from './server.js';

// The demo's photo panel (web/anonymize-panel.ts): a face-api demo photo through the page's file
// input, faces found and filled in the engine worker on wasm and on WebGPU (SwiftShader), the
// result downloaded as a PNG and compared with the input and with the Node library.
const missing = chromiumMissing();
const required = process.env.INFLOW_REQUIRE_WEBGPU === '1';
if (missing) console.warn(`browser photo-panel suite skipped: ${missing}`);

const outputDir = fileURLToPath(new URL('./output/', import.meta.url));
const faceApiDir = dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
const QUERY = '&model=flow.safetensors&n=1';

interface Photo { png: Buffer; rgb: Uint8Array; width: number; height: number }
interface Rect { x0: number; y0: number; x1: number; y1: number }
interface PageResult { boxes: { x: number; y: number; width: number; height: number; score: number }[]; plates: PageResult['boxes']; regions: Rect[]; distances?: number[] }

/** face-api's demo photo 3 at 640 px wide, as a PNG (lossless, so the page decodes exactly these bytes). */
async function makePhoto(): Promise<Photo> {
  const { data, info } = await sharp(join(faceApiDir, 'demo', 'sample3.jpg')).removeAlpha().resize({ width: 640 }).raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(data);
  const png = await sharp(rgb, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
  return { png, rgb, width: info.width, height: info.height };
}

describe.skipIf(!!missing)('photo panel in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let photo: Photo;
  const opened: OpenedPage[] = [];
  /** Every request the pages and their workers made: method, path and whether it carried a body. */
  const requests: { method: string; path: string; body: number }[] = [];
  const node: Partial<Record<FillMode, { boxes: PageResult['boxes']; regions: Rect[]; image: Uint8Array }>> = {};
  /** Held-out synthetic plate scenes in a grey 640 × 360 image, and the Node library's faces-and-plates result on it. */
  let plates: { png: Buffer; rgb: Uint8Array; plates: PageResult['boxes']; regions: Rect[]; image: Uint8Array };
  /** The Node library's identity check after a blur fill: each face's distance to its original. */
  let blurDistances: number[];

  beforeAll(async () => {
    const [{ build }, { chromium }, flows, p] = await Promise.all([import('vite'), import('playwright-core'), modelsUnderTest(), makePhoto()]);
    photo = p;
    const site = `${outputDir}site-anonymize`;
    mkdirSync(outputDir, { recursive: true });
    await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir: site } });
    server = await serveStatic(site, { 'flow.safetensors': flows.small });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
    // The Node library on the same pixels: the count and boxes the page must find.
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    for (const mode of ['telea', 'pixelate'] as const) {
      const r = await anonymize(engine, { width: p.width, height: p.height, data: p.rgb }, { mode });
      node[mode] = { boxes: r.boxes.map((d) => ({ ...d.box, score: d.score })), regions: r.regions, image: new Uint8Array(r.image.data) };
    }
    blurDistances = (await anonymize(engine, { width: p.width, height: p.height, data: p.rgb }, { mode: 'blur', verify: true })).detections.map((d) => d.distance!);
    const scene = pasteScenes({ width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(120), channels: 3 }, { first: 0, count: 8, minSide: 150, maxSide: 300, seed: 2 });
    const rp = await anonymize(engine, scene.image, { plates: true, mode: 'blur' });
    plates = {
      png: await sharp(scene.image.data, { raw: { width: 640, height: 360, channels: 3 } }).png().toBuffer(), rgb: new Uint8Array(scene.image.data),
      plates: rp.plates.map((d) => ({ ...d.box, score: d.score })), regions: rp.regions, image: new Uint8Array(rp.image.data),
    };
    engine.dispose();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const newPage = async (url: string): Promise<{ page: Page; context: BrowserContext }> => {
    const context = await browser.newContext({ acceptDownloads: true });
    // The context sees the dedicated engine worker's fetches too (the detector's weights below prove it).
    context.on('request', (r: Request) => requests.push({ method: r.method(), path: new URL(r.url()).pathname, body: r.postDataBuffer()?.length ?? 0 }));
    const o = await openDemo(context, url);
    opened.push(o);
    return { page: o.page, context };
  };

  for (const [backend, mode] of [['webgpu', 'pixelate'], ['wasm', 'telea']] as const)
    it(`${backend}: a photo through the file input comes back with its faces filled (${mode}); outside the mask every pixel is the input's`, async (ctx) => {
      const { page, context } = await newPage(`${server.isolated}?backend=${backend}${QUERY}&anon-mode=${mode}`);
      const s = await waitForBatches(page, 1, 90_000);
      if (backend === 'webgpu' && s.error && /navigator\.gpu|requestAdapter|adapter/.test(s.error) && !required) {
        console.warn(`browser WebGPU photo test skipped: ${s.error} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)`);
        await context.close();
        ctx.skip();
      }
      expect(s.error).toBeNull();
      expect(s.info!.backend).toBe(backend);
      await expect.poll(() => page.locator('#anon-privacy').isVisible()).toBe(true);
      expect(await page.locator('#anon-privacy').textContent()).toMatch(/processed on this device.*never uploaded/);

      await page.setInputFiles('#anon-file', { name: 'people.png', mimeType: 'image/png', buffer: photo.png });
      const r = await waitForRun(page, 1);
      const want = node[mode]!;
      expect(want.boxes.length).toBeGreaterThanOrEqual(2);
      expect(r.boxes.length).toBe(want.boxes.length);
      r.boxes.forEach((b, i) => {
        expect(iou(b, want.boxes[i]!), `face ${i}`).toBeGreaterThan(0.95);
        expect(Math.abs(b.score - want.boxes[i]!.score), `face ${i}`).toBeLessThan(0.01);
      });
      await expect.poll(() => page.locator('#anon-status').textContent()).toMatch(new RegExp(`people\\.png: ${photo.width}×${photo.height} · ${want.boxes.length} faces filled \\(${mode}\\) in [\\d.]+ s on ${backend}`));

      // The download is the full-size result as a PNG.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#anon-download')]);
      expect(download.suggestedFilename()).toBe('people-anonymized.png');
      const { data, info } = await sharp(readFileSync((await download.path())!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([photo.width, photo.height]);
      const inside = new Uint8Array(photo.width * photo.height);
      for (const g of r.regions) for (let y = g.y0; y < g.y1; y++) inside.fill(1, y * photo.width + g.x0, y * photo.width + g.x1);
      let changedOutside = 0, changedInside = 0, holePixels = 0;
      for (let p = 0; p < inside.length; p++) {
        const differs = [0, 1, 2].some((c) => data[3 * p + c] !== photo.rgb[3 * p + c]);
        if (inside[p]) {
          holePixels++;
          changedInside += +differs;
        } else changedOutside += +differs;
      }
      console.log(`${backend}: ${r.boxes.length} faces, ${holePixels} pixels filled (${changedInside} changed), ${changedOutside} changed outside`);
      expect(holePixels).toBeGreaterThan(500);
      expect(changedOutside).toBe(0);
      expect(changedInside).toBeGreaterThan(holePixels / 2);
      // The fills run on the host from the photo and the rectangles alone: the same rectangles as Node's give Node's very bytes.
      if (JSON.stringify(r.regions) === JSON.stringify(want.regions)) expect(Buffer.compare(data, Buffer.from(want.image))).toBe(0);
      else console.warn(`${backend}: the rectangles differ from Node's by rounding; byte comparison skipped`);

      // Another fill reruns on the same photo.
      await page.selectOption('#anon-mode', 'solid');
      const again = await waitForRun(page, 2);
      expect(again.regions).toEqual(r.regions);
      if (backend === 'wasm') await page.locator('#anon-panel').screenshot({ path: `${outputDir}anonymize.png` });
      await context.close();
    }, 120_000);

  it('wasm: "licence plates too" finds the Node library\'s plates, fills them, keeps every other pixel; unticked, plates are left alone', async () => {
    const { page, context } = await newPage(`${server.isolated}?backend=wasm${QUERY}&anon-mode=blur&anon-plates=1`);
    expect((await waitForBatches(page, 1, 90_000)).error).toBeNull();
    expect(await page.locator('#anon-plates').isChecked()).toBe(true);
    await page.setInputFiles('#anon-file', { name: 'cars.png', mimeType: 'image/png', buffer: plates.png });
    const r = await waitForRun(page, 1);
    expect(plates.plates.length).toBeGreaterThanOrEqual(2);
    expect(r.plates.length).toBe(plates.plates.length);
    r.plates.forEach((b, i) => expect(iou(b, plates.plates[i]!), `plate ${i}`).toBeGreaterThan(0.95));
    await expect.poll(() => page.locator('#anon-status').textContent()).toMatch(new RegExp(`cars\\.png: 640×360 · 0 faces and ${r.plates.length} plates? filled \\(blur\\)`));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#anon-download')]);
    const { data } = await sharp(readFileSync((await download.path())!)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const inside = new Uint8Array(640 * 360);
    for (const g of r.regions) for (let y = g.y0; y < g.y1; y++) inside.fill(1, y * 640 + g.x0, y * 640 + g.x1);
    let changedOutside = 0;
    for (let p = 0; p < inside.length; p++) if (!inside[p]) for (let c = 0; c < 3; c++) changedOutside += +(data[3 * p + c] !== plates.rgb[3 * p + c]);
    expect(changedOutside).toBe(0);
    if (JSON.stringify(r.regions) === JSON.stringify(plates.regions)) expect(Buffer.compare(data, Buffer.from(plates.image))).toBe(0);
    else console.warn('plates: the rectangles differ from Node\'s by rounding; byte comparison skipped');
    // Unticked: the same photo again, faces only.
    await page.uncheck('#anon-plates');
    const again = await waitForRun(page, 2);
    expect(again.plates).toEqual([]);
    await context.close();
  }, 120_000);

  it('wasm: "check that no face still matches" gives the Node library\'s distances and says that none matches', async () => {
    const { page, context } = await newPage(`${server.isolated}?backend=wasm${QUERY}&anon-mode=blur&anon-verify=1`);
    expect((await waitForBatches(page, 1, 90_000)).error).toBeNull();
    await page.setInputFiles('#anon-file', { name: 'people.png', mimeType: 'image/png', buffer: photo.png });
    const r = await waitForRun(page, 1);
    expect(blurDistances).toHaveLength(r.boxes.length);
    expect(r.distances).toHaveLength(blurDistances.length);
    r.distances!.forEach((d, i) => expect(d, `face ${i}`).toBeCloseTo(blurDistances[i]!, 4));
    expect(Math.min(...blurDistances)).toBeGreaterThan(0.6);
    await expect.poll(() => page.locator('#anon-status').textContent())
      .toMatch(new RegExp(`· no face matches its original for face-api's recogniser \\(closest ${Math.min(...r.distances!).toFixed(2)}\\)$`));
    // Unticked: no check, no distances.
    await page.uncheck('#anon-verify');
    expect((await waitForRun(page, 2)).distances).toBeUndefined();
    expect(await page.locator('#anon-status').textContent()).not.toMatch(/recogniser/);
    await context.close();
  }, 120_000);

  it('a file that is no image, and a photo over the pixel limit, are one clear message each; the page keeps working', async () => {
    const { page, context } = await newPage(`${server.isolated}?backend=wasm${QUERY}`);
    expect((await waitForBatches(page, 1)).error).toBeNull();
    await page.setInputFiles('#anon-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo at all\n') });
    await expect.poll(() => page.locator('#anon-status').textContent())
      .toBe('notes.txt: not an image this browser can read (choose a PNG, JPEG or WebP photo)');
    // A PNG with a photo's extension but a damaged body.
    await page.setInputFiles('#anon-file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: photo.png.subarray(0, 200) });
    await expect.poll(() => page.locator('#anon-status').textContent()).toMatch(/^broken\.jpg: (not an image this browser can read|the image could not be decoded)/);
    const big = await sharp({ create: { width: 6000, height: 5000, channels: 3, background: '#888' } }).png({ compressionLevel: 1 }).toBuffer();
    expect(6000 * 5000).toBeGreaterThan(MAX_PHOTO_PIXELS);
    await page.setInputFiles('#anon-file', { name: 'huge.png', mimeType: 'image/png', buffer: big });
    await expect.poll(() => page.locator('#anon-status').textContent())
      .toBe('huge.png: 6000×5000 pixels (30.0 megapixels) is over the 25 megapixels this page processes; scale the photo down and try again');
    const state = await page.evaluate(() => (window as unknown as { inflowDemo: { error: string | null; anonymize: { runs: number; error: string | null } } }).inflowDemo);
    expect(state.error).toBeNull();
    expect(state.anonymize.runs).toBe(0);
    expect(await page.locator('#anon-download').isHidden()).toBe(true);
    // Still usable: a real photo, dropped on the panel this time, runs after the refusals.
    const dropped = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'people.png', { type: 'image/png' }));
      return dt;
    }, photo.png.toString('base64'));
    await page.dispatchEvent('#anon-panel', 'drop', { dataTransfer: dropped });
    expect((await waitForRun(page, 1)).boxes.length).toBe(node.telea!.boxes.length);
    await context.close();
  }, 60_000);

  it('nothing is uploaded: every request is a GET without a body, and the photo is never requested or sent', () => {
    // The worker's downloads are seen: the detector's weights came from the built site.
    expect(requests.some((r) => r.path.endsWith('/face-api/tiny_face_detector_model-weights_manifest.json'))).toBe(true);
    expect(requests.some((r) => r.path.endsWith('/face-api/tiny_face_detector_model.bin'))).toBe(true);
    expect(requests.some((r) => r.path.endsWith('/models/plate-detector.safetensors'))).toBe(true);
    expect(requests.some((r) => r.path.endsWith('/face-api/face_recognition_model.bin'))).toBe(true);
    expect(requests.filter((r) => r.method !== 'GET' || r.body > 0)).toEqual([]);
    expect(server.requests.filter((p) => /people|cars|notes|huge|broken|\.png$|\.jpe?g$/.test(p))).toEqual([]);
  });

  it('logs no console errors', () => {
    expect(opened.flatMap((o) => o.errors)).toEqual([]);
  });
});

/** Waits for the panel's run number `n` (or its error) and returns its boxes and rectangles. */
async function waitForRun(page: Page, n: number): Promise<PageResult> {
  await page.waitForFunction((k) => {
    const a = (window as unknown as { inflowDemo: { anonymize: { runs: number; error: string | null; busy: boolean } } }).inflowDemo.anonymize;
    return (a.runs >= k && !a.busy) || !!a.error;
  }, n, { timeout: 60_000 });
  return page.evaluate(() => {
    const a = (window as unknown as { inflowDemo: { anonymize: { error: string | null; result: PageResult } } }).inflowDemo.anonymize;
    if (a.error) throw new Error(a.error);
    return { boxes: a.result.boxes, plates: a.result.plates, regions: a.result.regions, distances: a.result.distances };
  });
}
