// --webgpu-kernels (src/cli/engine-option.ts): the flag reaches createEngine, `inflow info` shows the
// set that runs on every WebGPU engine it builds, and a set that does not exist is one line.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';
import { engineOptions } from '../../src/cli/engine-option.js';
import { cliPath, expectOneLine, runCliInProcess } from '../helpers/cli.js';

const acquired = await acquireNodeGPU();
const skipReason = 'error' in acquired ? `--webgpu-kernels info checks skipped: ${acquired.error}` : null;
if (skipReason) console.warn(skipReason);

const dir = mkdtempSync(join(tmpdir(), 'inflow-kernels-flag-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('--webgpu-kernels', () => {
  it('is passed to createEngine only when given', () => {
    expect(engineOptions({ backend: 'webgpu', webgpuKernels: 'tiled' })).toMatchObject({ backend: 'webgpu', webgpuKernels: 'tiled' });
    expect('webgpuKernels' in engineOptions({ backend: 'webgpu' })).toBe(false);
  });

  it('refuses a set that does not exist in one line', async () => {
    expectOneLine(await runCliInProcess('info', '--backend', 'wasm', '--webgpu-kernels', 'fast'), /--webgpu-kernels.*'fast'.*tiled, simple/);
  });

  it('is listed in the help of the commands that build an engine', async () => {
    for (const cmd of [['info'], ['sample'], ['diffuse', 'sample'], ['serve']]) {
      const r = await runCliInProcess(...cmd, '--help');
      expect(r.stdout, cmd.join(' ')).toMatch(/--webgpu-kernels <set>/);
    }
  });

  // The flag wins over INFLOW_WEBGPU_KERNELS and over the adapter's default, both ways round.
  it.skipIf(!!skipReason).each([['tiled', 'simple'], ['simple', 'tiled']])('inflow info --backend webgpu --webgpu-kernels %s (env says %s)', (set, other) => {
    const r = spawnSync(process.execPath, [cliPath, 'info', '--json', '--backend', 'webgpu', '--webgpu-kernels', set],
      { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, INFLOW_WEBGPU_KERNELS: other } });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { chosen: { backend: string; details: Record<string, unknown> }; backends: Array<{ name: string; details?: Record<string, unknown> }> };
    expect(j.chosen.backend).toBe('webgpu');
    expect(j.chosen.details).toMatchObject({ kernels: set, kernelsWhy: 'requested' });
    expect(j.backends.find((b) => b.name === 'webgpu')?.details).toMatchObject({ kernels: set, kernelsWhy: 'requested' });
  }, 150_000);
});
