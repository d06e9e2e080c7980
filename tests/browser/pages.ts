import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export interface DemoState {
  info: { backend: string; why: string; details: Record<string, unknown>; rejected: Record<string, string>; classes: number } | null;
  samples: { flow: number[]; pixels: number[]; shape: number[]; ms: number } | null;
  score: { bitsPerDim: number; reconstruction: number[]; classProbs: number[]; ms: number } | null;
  scoreInput: number[] | null;
  firstBatchMs: number | null;
  warmBatchMs: number | null;
  batches: number;
  error: string | null;
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, from the page and its workers. */
  errors: string[];
  /** Console warnings seen on the page itself and in workers, kept apart (a message may reach both). */
  warnings: { page: string[]; workers: string[] };
}

/** Opens `url` in a fresh page of `context`, recording console errors and warnings, page and workers. */
export async function openDemo(context: BrowserContext | Browser, url: string): Promise<OpenedPage> {
  const page = await context.newPage();
  const opened: OpenedPage = { page, errors: [], warnings: { page: [], workers: [] } };
  const record = (where: 'page' | 'workers') => (m: ConsoleMessage) => {
    if (m.type() === 'error') opened.errors.push(`${where}: ${m.text()}`);
    if (m.type() === 'warning') opened.warnings[where].push(m.text());
  };
  page.on('console', record('page'));
  page.on('pageerror', (e) => opened.errors.push(`uncaught: ${e.message}`));
  page.on('worker', (w) => w.on('console', record('workers')));
  await page.goto(url);
  return opened;
}

export const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate(() => {
    const s = (window as unknown as { inflowDemo: Record<string, unknown> }).inflowDemo;
    // Typed arrays do not survive the trip out of the page: plain arrays do.
    const plain = (v: unknown): unknown => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      out[k] = v && typeof v === 'object' && !ArrayBuffer.isView(v)
        ? Object.fromEntries(Object.entries(v as object).map(([a, b]) => [a, plain(b)]))
        : plain(v);
    }
    return out as unknown as DemoState;
  });

/** Waits until the page has sampled `batches` batches or shows an error; returns its state. */
export async function waitForBatches(page: Page, batches: number, timeout = 45_000): Promise<DemoState> {
  await page.waitForFunction((n) => {
    const s = (window as unknown as { inflowDemo?: { batches: number; error: string | null } }).inflowDemo;
    return !!s && (s.batches >= n || !!s.error) && document.body.dataset.state !== 'busy';
  }, batches, { timeout });
  return demoState(page);
}

/** Waits for a readable error on the page (the #error banner). */
export async function waitForError(page: Page, timeout = 30_000): Promise<string> {
  await page.waitForFunction(() => !!(window as unknown as { inflowDemo?: { error: string | null } }).inflowDemo?.error, null, { timeout });
  return (await page.locator('#error').textContent()) ?? '';
}

/**
 * Removes WebGPU before any app code runs, in the page and in every worker it starts (the engine
 * runs in one): workers are started from a blob that deletes WorkerNavigator.prototype.gpu and then
 * imports the real script.
 */
export function removeWebGPU(): void {
  delete (Navigator.prototype as { gpu?: unknown }).gpu;
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(url: string | URL, options?: WorkerOptions) {
      const href = JSON.stringify(new URL(url, location.href).href);
      const strip = 'delete WorkerNavigator.prototype.gpu;';
      const src = options?.type === 'module' ? `import ${href};\n${strip}` : `${strip}\nimportScripts(${href});`;
      super(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), options);
    }
  };
}
