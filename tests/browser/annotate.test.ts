import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeLearningData, type ActiveData } from '../../src/active/data.js';
import { defaultRetrain } from '../../src/active/learner.js';
import { annotationServer } from '../../src/active/annotate/server.js';
import { AnnotationSession } from '../../src/active/annotate/session.js';
import { defaultSeedClassifier } from '../../src/models/seed-classifier/config.js';
import { CHROMIUM, chromiumArgs, chromiumMissing } from './chromium.js';
import { openDemo } from './pages.js';

// The annotation page of `inflow active-learn --serve` in headless Chromium: the page shows the
// acquired batch, a person (here: the pool's true labels) picks a class per image and submits, the
// engine worker retrains, and the accuracy row appears. Tiny pool, 3 training steps.
const missing = chromiumMissing();
if (missing) console.warn(`browser annotation-page suite skipped: ${missing}`);

describe.skipIf(!!missing)('annotation page in headless Chromium', () => {
  let data: ActiveData;
  let session: AnnotationSession;
  let app: FastifyInstance;
  let browser: Browser;
  let url: string;
  const labelsPath = join(mkdtempSync(join(tmpdir(), 'inflow-annotate-page-')), 'labels.json');

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    data = await activeLearningData({ data: 'seeds', pool: [3], test: 3, size: 32 });
    session = new AnnotationSession({
      data, labelsPath, acquisition: 'batchbald', initial: 4, batch: 3,
      classifier: { ...defaultSeedClassifier, inputShape: [3, 32, 32], classes: 4 },
      retrain: { ...defaultRetrain, steps: 3, batch: 8 }, mcPasses: 3, jointSamples: 200, seed: 2,
      engine: { backend: 'wasm', threads: 1 },
    });
    app = annotationServer(session);
    await session.start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await session?.close();
  });

  it('shows the batch, takes the labels, retrains and adds an accuracy row', async () => {
    const { page, errors } = await openDemo(browser, url);
    await page.waitForFunction(() => document.body.dataset.phase === 'labelling', null, { timeout: 30_000 });
    const selects = page.locator('#batch select');
    await expect.poll(() => selects.count()).toBe(4);
    // Every thumbnail is a decoded 32 × 32 PNG (decoding finishes after the elements appear, so wait for it).
    const sizes = () => page.locator('#batch img').evaluateAll((imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).complete]));
    await expect.poll(async () => (await sizes()).every(([, complete]) => complete), { timeout: 10_000 }).toBe(true);
    const decoded = await sizes();
    expect(decoded).toHaveLength(4);
    for (const [w] of decoded) expect(w).toBe(32);
    expect(await page.locator('#history tr').count()).toBe(0);

    const picked: { index: number; label: string }[] = [];
    for (let n = 0; n < 4; n++) {
      const s = selects.nth(n);
      const index = Number(await s.getAttribute('data-index'));
      const label = data.classNames[data.pool.labels[index]!]!;
      await s.selectOption(label);
      picked.push({ index, label });
    }
    await page.click('#submit');
    await expect.poll(() => page.locator('#note').textContent()).toBe('4 labels saved');
    await page.locator('#history tr').first().waitFor({ timeout: 30_000 });
    const cells = await page.locator('#history tr').first().locator('td').allTextContents();
    expect(cells[0]).toBe('1');
    expect(cells[1]).toBe('4');
    const shown = Number(cells[2]!.replace(' %', ''));
    const saved = JSON.parse(readFileSync(labelsPath, 'utf8'));
    expect(saved.labels).toEqual(picked);
    expect(shown).toBeCloseTo(100 * saved.rounds[0].accuracy, 1);
    // The next batch is shown: 3 new images.
    await page.waitForFunction(() => document.body.dataset.phase === 'labelling' && document.querySelectorAll('#batch select').length === 3, null, { timeout: 30_000 });
    const next = await page.locator('#batch select').evaluateAll((s) => s.map((e) => Number((e as HTMLSelectElement).dataset.index)));
    for (const i of next) expect(picked.map((p) => p.index)).not.toContain(i);
    expect(errors).toEqual([]);
  }, 60_000);
});
