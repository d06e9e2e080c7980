import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLine, runCliInProcess as inProcess } from '../helpers/cli.js';

// `inflow active-learn --serve` refusals: all before the engine worker starts or a port is opened.
const dir = mkdtempSync(join(tmpdir(), 'inflow-annotate-cli-'));
const tiny = ['active-learn', '--serve', '--pool', '3', '--test', '2', '--initial', '4', '--backend', 'wasm', '--threads', '1', '--port', '0'];

describe('inflow active-learn --serve: bad input is one line, exit 2', () => {
  it('experiment-only flags, several acquisitions, a batch larger than the pool', async () => {
    expectOneLine(await inProcess(...tiny, '--rounds', '2', '--out', join(dir, 'a')), /^inflow: --serve: --budgets and --rounds are for experiments/);
    expectOneLine(await inProcess(...tiny, '--acquisition', 'bald,random', '--out', join(dir, 'a')), /^inflow: --serve: give one acquisition function, not bald, random$/);
    expectOneLine(await inProcess(...tiny, '--batch', '13', '--out', join(dir, 'a')), /^inflow: --batch 13 is more than the 12 images of the pool \(procedural seeds 32×32\)$/);
    expectOneLine(await inProcess(...tiny, '--initial', '20', '--out', join(dir, 'a')), /^inflow: --initial 20 is more than the 12 images of the pool/);
  });

  it('a damaged labels.json in --out is named, and left as it was', async () => {
    mkdirSync(join(dir, 'bad'), { recursive: true });
    const path = join(dir, 'bad', 'labels.json');
    writeFileSync(path, '{"data": "procedural seeds 32×32", "pool": 12');
    expectOneLine(await inProcess(...tiny, '--out', join(dir, 'bad')), /^inflow: --out .*bad: .*labels\.json: not a readable JSON file/);
    expect(readFileSync(path, 'utf8')).toBe('{"data": "procedural seeds 32×32", "pool": 12');
  });

  it('--help describes --serve', async () => {
    const r = await inProcess('active-learn', '--help');
    expect(r.stdout).toMatch(/--serve +instead of an experiment, serve the annotation page/);
    expect(r.stdout).toContain('--port <n>');
  });
});
