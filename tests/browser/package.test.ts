import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildBrowserLibrary } from '../../web/browser-build.js';

describe('package entry points', () => {
  it("import 'inflow' in Node gives the engine plus path-based model files", async () => {
    const inflow = await import('inflow');
    expect(typeof inflow.createEngine).toBe('function');
    expect(typeof inflow.loadModel).toBe('function');
    expect(typeof (inflow as Record<string, unknown>).inspectModelFile).toBe('function');
  });

  it('the browser build has no Node import and leaves WebGPU and the embedded wasm to on-demand chunks', async () => {
    const out = await buildBrowserLibrary(join(tmpdir(), `inflow-browser-${process.pid}`));
    onTestFinished(() => rmSync(out, { recursive: true, force: true }));
    const chunks = readdirSync(join(out, 'chunks'));
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
    const webgpu = chunks.find((f) => f.startsWith('webgpu-'));
    const embedded = chunks.find((f) => f.startsWith('wasm-bytes-'));
    expect(webgpu && embedded).toBeTruthy();
    const js = ['inflow.js', ...chunks.map((c) => `chunks/${c}`)].map((f) => [f, readFileSync(join(out, f), 'utf8')] as const);
    for (const [file, text] of js) {
      // What a bundler would try to resolve: static imports and literal import() of node: or dawn.node.
      // (The wasm worker's source is a string that mentions require('node:worker_threads') for Node.)
      expect(text, file).not.toMatch(/from\s*["']node:|import\(\s*["'`]node:|import\(\s*["'`]webgpu["'`]/);
    }
    const entry = js[0]![1];
    const staticImports = [...entry.matchAll(/(?:^|;)\s*import\s*[^(]*?from\s*["']([^"']+)["']/g)].map((m) => m[1]);
    expect(staticImports.length).toBeGreaterThan(0);
    expect(staticImports.some((s) => s!.includes(webgpu!) || s!.includes(embedded!))).toBe(false);
  });
});
