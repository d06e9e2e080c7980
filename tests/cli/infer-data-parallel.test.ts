import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../src/cli/inflow.mjs', import.meta.url));

// `inflow sample`, `inflow eval` and `inflow diffuse sample` on replicas give what one thread gives: the same PNG bytes, the same printed numbers.
describe('inflow sample / eval / diffuse sample --data-parallel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-dp-infer-'));
  const model = join(dir, 'tiny.safetensors');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 180_000 });

  beforeAll(() => {
    const r = run(['train', '--data', 'mnist', '--levels', '1', '--steps', '2', '--width', '8', '--classes', '10', '--batch', '8', '--max-steps', '2',
      '--seed', '3', '--checkpoint-dir', join(dir, 'ckpt'), '--out', model]);
    expect(r.status, r.stderr).toBe(0);
  }, 200_000);

  it('samples the same PNG on two replica threads as on one thread', () => {
    const one = run(['sample', model, '--n', '6', '--seed', '2', '--backend', 'wasm', '--threads', '1', '--out', join(dir, 'one.png')]);
    expect(one.status, one.stderr).toBe(0);
    const two = run(['sample', model, '--n', '6', '--seed', '2', '--data-parallel', '2', '--out', join(dir, 'two.png')]);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/on 2 wasm replica threads/);
    expect(readFileSync(join(dir, 'two.png')).equals(readFileSync(join(dir, 'one.png')))).toBe(true);
  }, 120_000);

  it('evaluates bits/dim and class accuracy to the same printed digits', () => {
    const numbers = (out: string) => out.split('\n').map((l) => l.replace(/\(.*? s on .*?\)/, '')).join('\n');
    const one = run(['eval', model, '--data', 'mnist', '--backend', 'wasm', '--threads', '1']);
    expect(one.status, one.stderr).toBe(0);
    const two = run(['eval', model, '--data', 'mnist', '--data-parallel', '2']);
    expect(two.status, two.stderr).toBe(0);
    expect(one.stdout).toMatch(/bits\/dim on 1000 images/);
    expect(one.stdout).toMatch(/as a classifier/);
    expect(numbers(two.stdout)).toBe(numbers(one.stdout));
  }, 120_000);

  it('samples the bundled diffusion model to the same PNG on two replica threads', () => {
    const digits = fileURLToPath(new URL('../../models/diffusion-mnist.safetensors', import.meta.url));
    const args = ['diffuse', 'sample', digits, '--n', '4', '--steps', '3', '--label', '1,7', '--seed', '5'];
    const one = run([...args, '--backend', 'wasm', '--threads', '1', '--out', join(dir, 'd1.png')]);
    expect(one.status, one.stderr).toBe(0);
    const two = run([...args, '--data-parallel', '2', '--out', join(dir, 'd2.png')]);
    expect(two.status, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/on 2 wasm replica threads/);
    expect(readFileSync(join(dir, 'd2.png')).equals(readFileSync(join(dir, 'd1.png')))).toBe(true);
  }, 120_000);

  it('refuses --threads beside it in one line', () => {
    for (const cmd of [['sample', model, '--out', join(dir, 'x.png')], ['eval', model, '--data', 'mnist'], ['diffuse', 'sample', model, '--out', join(dir, 'y.png')]]) {
      const r = run([...cmd, '--data-parallel', '2', '--threads', '2']);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--data-parallel runs one-thread wasm engines/);
    }
  });
});
