// bench/gpu.sh --smoke on whatever adapter this machine has (SwiftShader in CI): the script runs end to
// end and its JSON has the shape the report reads, with WebGPU agreeing with wasm. Times are not checked.
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
    const r = spawnSync('bash', ['bench/gpu.sh', '--smoke', '--out', out],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, INFLOW_KERNELS_BUILT: '1' } });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^adapter: \{/m);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.suite).toBe('gpu');
    expect(j.smoke).toBe(true);
    expect(typeof j.adapter.software).toBe('boolean');
    expect(j.correctness.ok).toBe(true);
    for (const k of ['conv2dRelDiff', 'logProbRelDiff', 'sampleRelDiff']) expect(j.correctness[k]).toBeLessThan(1e-3);
    expect(j.kernels.length).toBeGreaterThan(0);
    for (const k of j.kernels) expect(Object.keys(k)).toEqual(expect.arrayContaining(['name', 'flops', 'coldMs', 'medianMs', 'gflops']));
    expect(j.sampling[0]).toMatchObject({ preset: expect.any(String), batch: expect.any(Number), secondsPer100: expect.any(Number) });
    expect(j.grid[0]).toMatchObject({ H: expect.any(Number), fincMs: expect.any(Number), rasterMs: expect.any(Number), emergingMs: expect.any(Number) });
    expect(typeof j.machine.cpuModel).toBe('string');
  }, 300_000);
});
