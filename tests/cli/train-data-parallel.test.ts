import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../src/cli/inflow.mjs', import.meta.url));

describe('inflow train --data-parallel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-dp-'));
  const model = ['--data', 'mnist', '--levels', '1', '--steps', '2', '--width', '8', '--batch', '8', '--lr', '1e-3', '--warmup', '0', '--seed', '3'];
  const run = (name: string, extra: string[]) => spawnSync(process.execPath,
    [cli, 'train', ...model, ...extra, '--checkpoint-dir', join(dir, name), '--out', join(dir, `${name}.safetensors`)], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
  const losses = (name: string) => readFileSync(join(dir, name, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);

  it('trains on two threads the model one engine trains, and --resume keeps the replicas', () => {
    const dp = run('dp', ['--data-parallel', '2', '--max-steps', '3', '--checkpoint-every', '2']);
    expect(dp.status, dp.stderr).toBe(0);
    expect(existsSync(join(dir, 'dp.safetensors'))).toBe(true);
    const plain = run('plain', ['--backend', 'wasm', '--threads', '1', '--max-steps', '1']);
    expect(plain.status, plain.stderr).toBe(0);
    const [a, b] = [losses('dp'), losses('plain')];
    expect(a).toHaveLength(3);
    // The same first batch and weights: the first loss differs only by the order of float32 sums.
    expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(1e-5 * b[0]!);
    const resumed = run('dp', ['--resume', '--max-steps', '4']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = losses('dp');
    expect(after).toHaveLength(4);
    expect(after.slice(0, 2)).toEqual(a.slice(0, 2));
    expect(after.every(Number.isFinite)).toBe(true);
  }, 300_000);

  it('refuses --threads or a GPU backend beside it, in one line, before loading data', () => {
    const r = run('bad', ['--data-parallel', '2', '--threads', '2', '--max-steps', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--data-parallel runs one-thread wasm engines/);
    const zero = run('zero', ['--data-parallel', '0', '--max-steps', '1']);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/--data-parallel/);
  });
});
