// bench/gpu.sh --smoke on whatever adapter this machine has (SwiftShader in CI): the script runs end to
// end, every section on webgpu tiled, webgpu simple and wasm, its JSON has the shape the report reads
// and its markdown tables are written, with WebGPU agreeing with wasm. Times are not checked.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';

const acquired = await acquireNodeGPU();
const skipReason = 'error' in acquired ? `gpu.sh smoke test skipped: ${acquired.error} (INFLOW_REQUIRE_WEBGPU=1 makes this an error)` : null;
if (skipReason) {
  if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(skipReason);
  console.warn(skipReason);
}

const dir = mkdtempSync(join(tmpdir(), 'inflow-gpu-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!!skipReason)('bench/gpu.sh --smoke', () => {
  it('writes gpu JSON whose WebGPU results agree with wasm', () => {
    const out = join(dir, 'gpu.json');
    // npm test built the kernels already; a loaded 2-core machine still needs minutes of headroom.
    // A generous time guard: on a loaded machine the guard must not be what decides which sections ran.
    const r = spawnSync('bash', ['bench/gpu.sh', '--smoke', '--budget-s', '200', '--out', out],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, INFLOW_KERNELS_BUILT: '1' } });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^adapter: \{/m);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.suite).toBe('gpu');
    expect(j.smoke).toBe(true);
    expect(typeof j.adapter.software).toBe('boolean');
    expect(j.correctness.ok).toBe(true);
    for (const k of ['conv2dRelDiff', 'logProbRelDiff', 'sampleRelDiff']) expect(j.correctness[k]).toBeLessThan(1e-3);
    // Every section ran on the three contenders, nothing was cut, and each WebGPU result agrees with wasm's.
    const contenders = ['webgpu tiled', 'webgpu simple', 'wasm'];
    expect(j.timeGuard).toMatchObject({ hit: false, skipped: [] });
    const rowsOk = (rows: Array<{ contender: string; timing: { medianMs: number } | null; relDiff?: number | null }>, agree: boolean) => {
      expect(rows.map((r) => r.contender)).toEqual(contenders);
      for (const r of rows) {
        expect(r.timing?.medianMs, r.contender).toBeGreaterThan(0);
        if (agree && r.contender !== 'wasm') expect(r.relDiff, r.contender).toBeLessThan(1e-3);
      }
    };
    expect(j.kernels.length).toBeGreaterThan(0);
    for (const k of j.kernels) {
      expect(k).toMatchObject({ name: expect.any(String), flops: expect.any(Number) });
      rowsOk(k.rows, false);
      for (const r of k.rows) expect(r.gflops).toBeGreaterThan(0);
    }
    expect(j.sampling[0]).toMatchObject({ preset: expect.any(String), batch: expect.any(Number) });
    rowsOk(j.sampling[0].rows, true);
    for (const r of j.sampling[0].rows) expect(r.secondsPer100).toBeGreaterThan(0);
    rowsOk(j.diffusion.rows, true);
    expect(j.diffusion.rows[0].samplesPerSecond).toBeGreaterThan(0);
    rowsOk(j.unetStep.rows, true);
    expect(j.unetStep.params).toBeGreaterThan(0);
    // SwiftShader offers timestamp queries; a host whose adapter does not says why.
    if (j.timestamps.available) for (const r of j.timestamps.rows) expect(r.passes).toBeGreaterThan(0);
    else expect(j.timestamps.why).toEqual(expect.any(String));
    expect(j.grid[0]).toMatchObject({ H: expect.any(Number), fincMs: expect.any(Number), rasterMs: expect.any(Number), emergingMs: expect.any(Number) });
    expect(typeof j.machine.cpuModel).toBe('string');
    // The markdown tables beside the JSON name every section.
    const md = readFileSync(join(dir, 'gpu.md'), 'utf8');
    for (const h of ['## Kernels', '## UNet training step', '## Diffusion sampling', '## FInC sampling']) expect(md).toContain(h);
  }, 300_000);

  it('--help says what it measures and where it writes; a wrong option is refused', () => {
    const env = { ...process.env, INFLOW_KERNELS_BUILT: '1' };
    const help = spawnSync('bash', ['bench/gpu.sh', '--help'], { encoding: 'utf8', timeout: 60_000, env });
    expect(help.status, help.stderr).toBe(0);
    for (const w of ['--smoke', '--budget-s', 'bench/results/gpu.json', 'timestamp-query']) expect(help.stdout).toContain(w);
    const bad = spawnSync('bash', ['bench/gpu.sh', '--smoke', '--budget-s', 'soon'], { encoding: 'utf8', timeout: 60_000, env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--budget-s soon must be/);
  }, 120_000);
});
