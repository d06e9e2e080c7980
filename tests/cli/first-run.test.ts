import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasGpuDeviceNode } from '../../bindings/vulkan-driver.js';
import { CountProgress } from '../../src/cli/progress.js';
import { cliPath, expectOneLine, runCli } from '../helpers/cli.js';

/*
 * The first five minutes of issue 12: `npm start` (inflow demo) printed nothing for over a minute
 * while it scored 1000 digits ten passes each, and Dawn's multi-line warnings (with a path on its CI
 * machine) when Vulkan was missing. Now it scores a stated number of digits with progress, and says
 * in one line why WebGPU is not used.
 */

const dir = mkdtempSync(join(tmpdir(), 'inflow-first-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dawnNoise = /^Warning:|VulkanError|BackendVk|\/home\/runner\//m;

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('inflow demo (npm start)', () => {
  it('scores the number of digits it says, and says in one line why not WebGPU', () => {
    const r = run(['demo', '--digits', '20', '--out', join(dir, 'grid.png')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(dawnNoise);
    expect(r.stdout).toMatch(/^scoring 20 of the 1000 held-out MNIST test digits, 10 passes each: p\(x\) takes one per class; --digits 1000 for all$/m);
    expect(r.stdout).toMatch(/^held-out bits\/dim on 20 of the 1000 MNIST test digits: \d\.\d{4}$/m);
    expect(r.stdout).toMatch(/^the flow as a classifier .*: \d+\.\d% of those 20 digits$/m);
    expect(existsSync(join(dir, 'grid.png'))).toBe(true);
    const backend = /^backend: (\w+)/m.exec(r.stdout)![1];
    const whyNot = r.stdout.split('\n').filter((l) => l.startsWith('webgpu not used: '));
    expect(whyNot).toHaveLength(backend === 'webgpu' ? 0 : 1);
    if (process.platform === 'linux' && !hasGpuDeviceNode()) expect(whyNot[0]).toMatch(/no GPU on this machine/);
  }, 120_000);

  it('--digits beyond the held-out split is refused in one line', () => {
    expectOneLine(runCli(dir, ['demo', '--digits', '1001', '--out', join(dir, 'x.png')]), /^inflow: --digits 1001: the held-out split has 1000 digits$/);
  }, 60_000);
});

describe.runIf(process.platform === 'linux')('WebGPU unavailable: one line, no Dawn warnings', () => {
  it('VK_ICD_FILENAMES naming no file: inflow info\'s webgpu row says so in one line', () => {
    const r = run(['info', '--json', '--backend', 'wasm'], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(dawnNoise);
    const webgpu = (JSON.parse(r.stdout) as { backends: Array<{ name: string; reason?: string }> }).backends.find((b) => b.name === 'webgpu')!;
    expect(webgpu.reason).toMatch(/no Vulkan driver: VK_ICD_FILENAMES=\/nonexistent\/icd\.json names no file that exists/);
  }, 60_000);
});

describe('CountProgress without a terminal', () => {
  it('writes a plain line at most every `every` ms, none for the last step (the result follows)', () => {
    const lines: string[] = [];
    const p = new CountProgress('scoring', 3, 'digits', false, 0, (l) => lines.push(l));
    p.begin();
    for (const done of [1, 2, 3]) p.update(done);
    p.end();
    expect(lines.map((l) => l.replace(/\(.*\)/, '(…)'))).toEqual(['scoring: 1/3 digits (…)', 'scoring: 2/3 digits (…)']);
    const quiet: string[] = [];
    const q = new CountProgress('scoring', 3, 'digits', false, 60_000, (l) => quiet.push(l));
    for (const done of [1, 2, 3]) q.update(done);
    expect(quiet).toEqual([]);
  });
});

describe('scripts/asbuild-if-stale.mjs (npm start rebuilds kernels only when a source is newer)', () => {
  it('up to date after a build, stale when an input is newer or an output is missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'inflow-asbuild-'));
    for (const d of ['scripts', 'bindings/generated', 'wgsl', 'assembly/generated']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(fileURLToPath(new URL('../../scripts/asbuild-if-stale.mjs', import.meta.url)), join(root, 'scripts', 'asbuild-if-stale.mjs'));
    const at = (file: string, seconds: number) => {
      writeFileSync(join(root, file), '');
      utimesSync(join(root, file), seconds, seconds);
    };
    at('wgsl/conv2d.wgsl', 1000);
    for (const f of ['wgsl.ts', 'ops.ts', 'wasm-bytes.ts', 'inflow-single.wasm', 'inflow-threads.wasm']) at(`bindings/generated/${f}`, 2000);
    // build-ops.mjs writes these during the build: newer than the first outputs, yet no reason to rebuild.
    at('assembly/index.ts', 3000);
    at('assembly/generated/conv2d.ts', 3000);
    const check = () => spawnSync(process.execPath, [join(root, 'scripts', 'asbuild-if-stale.mjs'), '--check'], { encoding: 'utf8' });
    let r = check();
    expect([r.status, r.stdout.trim()]).toEqual([0, 'kernels up to date']);
    at('wgsl/conv2d.wgsl', 2500);
    r = check();
    expect([r.status, r.stdout.trim()]).toEqual([1, 'stale: wgsl/conv2d.wgsl changed after the last build']);
    at('wgsl/conv2d.wgsl', 1000);
    rmSync(join(root, 'bindings/generated/ops.ts'));
    r = check();
    expect([r.status, r.stdout.trim()]).toEqual([1, 'stale: bindings/generated/ops.ts is missing']);
    rmSync(root, { recursive: true, force: true });
  });
});
