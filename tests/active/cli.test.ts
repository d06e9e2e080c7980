import { mkdirSync, mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLine, runCli, runCliInProcess as inProcess } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-active-'));
const at = (...p: string[]) => join(dir, ...p);
const wasm = ['--backend', 'wasm', '--threads', '1'];
const tiny = ['--pool', '6', '--test', '3', '--initial', '8', '--steps', '3', '--mc-samples', '3', ...wasm];

beforeAll(async () => {
  // Two classes of three plain images each, and a class folder with none.
  for (const [name, colour] of [['light', 220], ['dark', 40]] as const) {
    mkdirSync(at('photos', name), { recursive: true });
    for (let i = 0; i < 3; i++)
      await sharp({ create: { width: 12, height: 10, channels: 3, background: { r: colour, g: colour - 10 * i, b: 30 } } }).png().toFile(at('photos', name, `${i}.png`));
  }
  mkdirSync(at('photos-empty', 'a'), { recursive: true });
  mkdirSync(at('photos-empty', 'b'), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toFile(at('photos-empty', 'a', 'x.png'));
});

describe('inflow active-learn', () => {
  it('a tiny run of two acquisitions, 2 rounds (a real process): curves.json and curves.png', async () => {
    const r = runCli(dir, ['active-learn', '--acquisition', 'batchbald,random', '--rounds', '2', '--batch', '4', '--out', 'al', ...tiny], 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^procedural seeds 32×32: pool 24, held-out 12, classes pure, discoloured, broken, silkcut; label counts 8, 12, 16; wasm\n/);
    expect(r.stdout).toMatch(/\n {2}batchbald {2}[\d.]+ % {2}[\d.]+ % {2}[\d.]+ %\n/);
    const report = JSON.parse(readFileSync(at('al', 'curves.json'), 'utf8'));
    expect(report.settings).toMatchObject({ acquisitions: ['batchbald', 'random'], labelCounts: [8, 12, 16], mcSamples: 3, seeds: [0] });
    expect(report.runs).toHaveLength(2);
    for (const run of report.runs) {
      expect(run.curve.map((p: { labels: number }) => p.labels)).toEqual([8, 12, 16]);
      // Every acquired image is new, and the initial 8 are 2 per class.
      const all = run.curve.flatMap((p: { acquired: number[] }) => p.acquired);
      expect(new Set(all).size).toBe(16);
      expect(run.curve[0].labelledPerClass).toEqual([2, 2, 2, 2]);
      for (const p of run.curve) {
        expect(p.accuracy).toBeGreaterThanOrEqual(0);
        expect(p.accuracy).toBeLessThanOrEqual(1);
        expect(p.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(12);
      }
    }
    // Both runs start from the same labelled set and the same model seed.
    expect(report.runs[0].curve[0].acquired).toEqual(report.runs[1].curve[0].acquired);
    expect(report.runs[0].curve[0].accuracy).toBe(report.runs[1].curve[0].accuracy);
    expect(report.mean.map((s: { name: string }) => s.name)).toEqual(['batchbald', 'random']);
    const png = await sharp(at('al', 'curves.png')).metadata();
    expect([png.format, png.width]).toEqual(['png', 720]);
  });

  it('a class-folder set: the hold-out comes out of each class', async () => {
    const r = await inProcess('active-learn', '--data', at('photos'), '--test', '1', '--initial', '2', '--budgets', '4', '--acquisition', 'bald', '--steps', '2', '--mc-samples', '2', '--size', '8', '--out', at('al-photos'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(at('al-photos', 'curves.json'), 'utf8'));
    expect(report.data).toMatchObject({ classNames: ['dark', 'light'], pool: 4, test: 2 });
    expect(report.runs[0].curve.map((p: { labels: number }) => p.labels)).toEqual([2, 4]);
  });

  it('--pool-copies repeats the pool: copy c of image i at c·N + i', async () => {
    const r = await inProcess('active-learn', '--pool', '2', '--pool-copies', '3', '--test', '1', '--initial', '4', '--budgets', '8', '--acquisition', 'bald', '--steps', '2', '--mc-samples', '2', '--out', at('al-copies'), ...wasm);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^procedural seeds 32×32, every pool image 3 times: pool 24, held-out 4,/);
    const report = JSON.parse(readFileSync(at('al-copies', 'curves.json'), 'utf8'));
    expect(report.data).toMatchObject({ pool: 24, poolCopies: 3 });
  });

  it('--help names every option', async () => {
    const r = await inProcess('active-learn', '--help');
    expect(r.code).toBe(0);
    for (const flag of ['--data', '--classes', '--pool', '--pool-copies', '--test', '--size', '--arch', '--acquisition', '--initial', '--budgets', '--rounds', '--batch', '--mc-samples', '--joint-samples', '--steps', '--train-batch', '--lr', '--seed', '--repeats', '--out', '--backend', '--threads'])
      expect(r.stdout).toContain(flag);
  });

  it('bad input: one line, exit 2, nothing written', async () => {
    const out = at('bad');
    const cases: [string[], RegExp][] = [
      [['--budgets', '20,500', ...tiny], /^inflow: budget 500 is more than the 24 images of the pool \(procedural seeds 32×32\); lower --budgets\/--rounds or enlarge --pool$/],
      [['--acquisition', 'batchbald,coreset', ...tiny], /^inflow: option '--acquisition <list>' argument 'batchbald,coreset' is invalid\. unknown acquisition 'coreset'; expected batchbald, bald, max-entropy, random/],
      [['--classes', 'pure,mouldy', ...tiny], /^inflow: --data seeds: unknown class "mouldy" \(the seed classes are pure, discoloured, broken, silkcut\)$/],
      [['--data', at('photos'), '--classes', 'light,grey', '--test', '1', '--initial', '2', '--budgets', '4'], /^inflow: --data .*photos: .*unknown class "grey" \(the class folders are dark, light\)$/],
      [['--data', at('photos-empty'), '--test', '1', '--initial', '2', '--budgets', '4'], /^inflow: --data .*photos-empty: class "b": .*photos-empty\/b: no \.png, \.jpg, \.jpeg or \.webp images in this folder$/],
      [['--data', at('photos'), '--test', '3', '--initial', '2', '--budgets', '4'], /^inflow: --data .*photos: .*class "dark" has 3 images; holding out 3 per class leaves none to acquire$/],
      [['--budgets', '30,25', ...tiny], /^inflow: --budgets 30,25: budget 25 must be an integer above 30/],
      [['--budgets', '30', '--rounds', '2', ...tiny], /^inflow: --budgets and --rounds exclude each other/],
      [['--data', 'nowhere', ...tiny], /^inflow: --data nowhere: nowhere: cannot read this folder of class folders/],
      [['--pool-copies', '101', ...tiny], /^inflow: --pool-copies 101: at most 100$/],
    ];
    for (const [args, pattern] of cases) {
      const r = await inProcess('active-learn', '--out', out, ...args);
      expectOneLine(r, pattern);
    }
    expect(existsSync(out)).toBe(false);
  });
});
