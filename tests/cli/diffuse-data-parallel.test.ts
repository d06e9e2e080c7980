import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLine, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-diffuse-dp-'));
const run = (...args: string[]) => runCli(dir, args, 170_000);
const losses = (name: string) => readFileSync(join(dir, name, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { loss: number }).loss);

describe('inflow diffuse train --data-parallel', () => {
  const common = ['--data', 'mnist', '--classes', '10', '--base-channels', '8', '--channel-mults', '1,2', '--attention', '14', '--groups', '4', '--heads', '2',
    '--timesteps', '50', '--sample-steps', '2', '--batch', '4', '--seed', '5'];

  it('takes the steps one engine takes, from the same draws', () => {
    const dp = run('diffuse', 'train', ...common, '--data-parallel', '2', '--max-steps', '2', '--checkpoint-dir', 'dp', '--out', 'dp/model.safetensors');
    expect(dp.code, dp.stderr).toBe(0);
    const plain = run('diffuse', 'train', ...common, '--backend', 'wasm', '--threads', '1', '--max-steps', '1', '--checkpoint-dir', 'plain', '--out', 'plain/model.safetensors');
    expect(plain.code, plain.stderr).toBe(0);
    const [a, b] = [losses('dp'), losses('plain')];
    expect(a).toHaveLength(2);
    expect(a.every(Number.isFinite)).toBe(true);
    // Same weights, timesteps, noise and dropped labels: the first loss differs only by the order of float32 sums.
    expect(Math.abs(a[0]! - b[0]!)).toBeLessThan(1e-5 * b[0]!);
  }, 180_000);

  it('refuses dropout and --threads beside it, in one line', () => {
    expectOneLine(run('diffuse', 'train', ...common, '--data-parallel', '2', '--dropout', '0.1', '--max-steps', '1'), /--data-parallel needs --dropout 0/);
    expectOneLine(run('diffuse', 'train', ...common, '--data-parallel', '2', '--threads', '2', '--max-steps', '1'), /--data-parallel runs one-thread wasm engines/);
  });
});
