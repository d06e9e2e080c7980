import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createEngine } from '../../src/engine/dispatcher.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig } from '../../src/models/diffusion/schema.js';
import { pixelConfig, RESTORE, SR } from '../cli/image-task-fixtures.js';
import { randomizeOutput } from '../models/diffusion-fixtures.js';
import { CHROMIUM, chromiumArgs, chromiumMissing } from './chromium.js';
import { modelsUnderTest } from './model.js';
import { openDemo, waitForBatches, type OpenedPage } from './pages.js';
import { serveStatic, type StaticServer } from './server.js';

// The demo's upscale / restore / inpaint panel (web/tasks-panel.ts), its engine in the worker, on
// wasm and on WebGPU (SwiftShader), with tiny never-trained 28×28 models made here.
const missing = chromiumMissing();
const required = process.env.INFLOW_REQUIRE_WEBGPU === '1';
if (missing) console.warn(`browser task-panel suite skipped: ${missing}`);

const outputDir = fileURLToPath(new URL('./output/', import.meta.url));
/** 2 denoiser steps; RePaint with jump length 1 and 2 passes: 2 + (2 − 1) · 1 · ⌊1/1⌋ = 3 denoiser calls. */
const STEPS = 2, REPAINT_CALLS = 3;
const QUERY = `&model=flow.safetensors&n=1&sr=sr.safetensors&restore=restore.safetensors&inpaint=uncond.safetensors&task-steps=${STEPS}&task-jump=1&task-resample=2&task-seed=4`;

interface Px { data: number[]; shape: number[] }
interface Run { input: Px; output: Px; reference: Px | null; mask: number[] | null; calls: number; progress: { done: number; total: number } | null }

async function modelBytes(): Promise<Record<string, Uint8Array>> {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const out: Record<string, Uint8Array> = {};
  const configs: Record<string, DiffusionModelConfig> = { 'sr.safetensors': pixelConfig(SR), 'restore.safetensors': pixelConfig(RESTORE), 'uncond.safetensors': pixelConfig() };
  for (const [name, config] of Object.entries(configs)) {
    const m = new DiffusionModel(engine, config, { seed: 1 });
    randomizeOutput(m);
    out[name] = await m.toBytes();
    m.dispose();
  }
  engine.dispose();
  return out;
}

describe.skipIf(!!missing)('image-task panel in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  const opened: OpenedPage[] = [];
  const results: Record<string, Record<string, Run>> = {};

  beforeAll(async () => {
    const [{ build }, { chromium }, flows, tasks] = await Promise.all([import('vite'), import('playwright-core'), modelsUnderTest(), modelBytes()]);
    const site = `${outputDir}site-tasks`;
    mkdirSync(outputDir, { recursive: true });
    await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), logLevel: 'warn', build: { outDir: site } });
    server = await serveStatic(site, { 'flow.safetensors': flows.small, ...tasks });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const backend of ['webgpu', 'wasm'] as const)
    it(`${backend}: upscale, restore and inpaint a drawn digit; the same seed gives the same image`, async (ctx) => {
      const o = await openDemo(browser, `${server.isolated}?backend=${backend}${QUERY}`);
      opened.push(o);
      const page = o.page;
      const s = await waitForBatches(page, 1, 90_000);
      if (backend === 'webgpu' && s.error && /navigator\.gpu|requestAdapter|adapter/.test(s.error) && !required) {
        console.warn(`browser WebGPU task test skipped: ${s.error} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)`);
        await page.close();
        ctx.skip();
      }
      expect(s.error).toBeNull();
      expect(s.info!.backend).toBe(backend);
      await drawSeven(page);
      const runs: Record<string, Run> = {};
      let count = 0;
      for (const task of ['upscale', 'restore', 'inpaint']) {
        await page.selectOption('#task', task);
        const first = await runTask(page, ++count);
        const again = await runTask(page, ++count);
        // Deterministic under the seed: the same input and settings give the very same pixels.
        expect(again.output.data).toEqual(first.output.data);
        expect(again.input.data).toEqual(first.input.data);
        expect(first.output.data.every((v) => v >= 0 && v <= 255)).toBe(true);
        runs[task] = first;
      }

      const up = runs.upscale!;
      expect(up.input.shape).toEqual([1, 1, 7, 7]);
      expect(up.output.shape).toEqual([1, 1, 28, 28]);
      expect(up.calls).toBe(STEPS);
      expect(up.progress).toEqual({ done: STEPS, total: STEPS });
      // The low-resolution input is the drawing's 4 × 4 block means, as the trainer makes it.
      const ref = up.reference!.data;
      expect(ref.filter((v) => v > 128).length).toBeGreaterThan(20);
      for (let y = 0; y < 7; y++)
        for (let x = 0; x < 7; x++) {
          let sum = 0;
          for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += ref[(4 * y + dy) * 28 + 4 * x + dx]!;
          expect(Math.abs(up.input.data[y * 7 + x]! - sum / 16)).toBeLessThan(1e-3);
        }

      const re = runs.restore!;
      expect(re.output.shape).toEqual([1, 1, 28, 28]);
      // The model's kind (gaussian-noise) was applied to the drawing first.
      expect(maxDiff(re.input.data, re.reference!.data)).toBeGreaterThan(10);
      expect(await page.locator('#task-degradation').inputValue()).toBe('gaussian-noise');

      const ip = runs.inpaint!;
      expect(ip.output.shape).toEqual([1, 1, 28, 28]);
      expect(ip.calls).toBe(REPAINT_CALLS);
      const hole = ip.mask!.filter((v) => v === 255).length;
      expect(hole).toBe(14 * 14);
      let knownChanged = 0, holeMoved = 0;
      ip.mask!.forEach((m, p) => {
        if (m === 0 && ip.output.data[p] !== ip.reference!.data[p]) knownChanged++;
        if (m === 255) holeMoved = Math.max(holeMoved, Math.abs(ip.output.data[p]! - ip.reference!.data[p]!));
      });
      expect(knownChanged).toBe(0);
      expect(holeMoved).toBeGreaterThan(0);
      expect(await page.locator('#task-status').textContent()).toMatch(/inpaint: 28×28 → 28×28, 3 denoiser calls in [\d.]+ s/);
      results[backend] = runs;
      if (backend === 'wasm') {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: `${outputDir}tasks.png`, fullPage: true });
      }
      await page.close();
    }, 120_000);

  it('wasm and webgpu give the same images (the denoiser within float32 tolerance, the steps on the host)', (ctx) => {
    if (!results.webgpu || !results.wasm) {
      if (required) throw new Error('a backend produced no results');
      return ctx.skip();
    }
    for (const task of ['upscale', 'restore', 'inpaint']) {
      const a = results.wasm[task]!, b = results.webgpu[task]!;
      expect(b.input.data, task).toEqual(a.input.data);
      const d = maxDiff(a.output.data, b.output.data);
      console.log(`${task}: wasm vs webgpu largest pixel difference ${d.toFixed(4)}`);
      expect(d, task).toBeLessThan(0.1);
    }
  });

  it('a model of the wrong kind is a readable message in the panel, not a page error', async () => {
    const o = await openDemo(browser, `${server.isolated}?backend=wasm${QUERY.replace('sr=sr.safetensors', 'sr=restore.safetensors')}`);
    opened.push(o);
    await waitForBatches(o.page, 1);
    await o.page.click('#task-run');
    await o.page.waitForFunction(() => !!(window as unknown as { inflowDemo: { task: { error: string | null } } }).inflowDemo.task.error);
    expect(await o.page.locator('#task-status').textContent()).toMatch(/Could not load restore.safetensors: this is a restoration model; upscale takes a super-resolution model/);
    await o.page.selectOption('#task', 'restore');
    // Nothing drawn yet: the panel asks for a digit.
    await o.page.click('#task-run');
    await o.page.waitForFunction(() => /draw a digit/.test(document.getElementById('task-status')!.textContent ?? ''));
    await o.page.close();
  });

  it('logs no console errors', () => {
    expect(opened.flatMap((o) => o.errors)).toEqual([]);
  });
});

/** Clicks Run and waits for run number `n` (or an error); returns the panel's result. */
async function runTask(page: Page, n: number): Promise<Run> {
  await page.click('#task-run');
  await page.waitForFunction((k) => {
    const t = (window as unknown as { inflowDemo: { task: { runs: number; error: string | null } } }).inflowDemo.task;
    return t.runs >= k || !!t.error;
  }, n, { timeout: 60_000 });
  return page.evaluate(() => {
    const t = (window as unknown as { inflowDemo: { task: { error: string | null; progress: Run['progress']; result: Record<string, unknown> } } }).inflowDemo.task;
    if (t.error) throw new Error(t.error);
    const px = (p: unknown) => (p ? { data: Array.from((p as { data: Float32Array }).data), shape: [...(p as { shape: number[] }).shape] } : null);
    const r = t.result;
    return { input: px(r.input)!, output: px(r.output)!, reference: px(r.reference), mask: r.mask ? Array.from(r.mask as Float32Array) : null, calls: r.calls as number, progress: t.progress };
  });
}

/** A "7" on the drawing pad, as mouse strokes. */
async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  await page.mouse.move(...at(0.25, 0.22));
  await page.mouse.down();
  for (const [fx, fy] of [[0.75, 0.22], [0.45, 0.85]] as const) await page.mouse.move(...at(fx, fy), { steps: 8 });
  await page.mouse.up();
}

const maxDiff = (a: readonly number[], b: readonly number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
