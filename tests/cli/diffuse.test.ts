import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { loadDiffusionModel, saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { fincFlow } from '../../src/models/index.js';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { tinyConfig } from '../models/diffusion-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-diffuse-'));
const tiny = join(dir, 'tiny.safetensors');
const flow = join(dir, 'flow.safetensors');
const run = (...args: string[]) => runCli(dir, args);

beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = new DiffusionModel(engine, tinyConfig(), { seed: 1 });
  await saveDiffusionModel(model, tiny);
  model.dispose();
  const f = fincFlow({ inputShape: [1, 8, 8], levels: 1, steps: 1, width: 4 }, { engine });
  await saveModel(f, flow);
  f.dispose();
  engine.dispose();
});

describe('inflow diffuse sample', () => {
  it('writes a PNG grid and says how it sampled', () => {
    const r = run('diffuse', 'sample', tiny, '--n', '6', '--steps', '3', '--guidance', '1.5', '--label', '0,2', '--seed', '4', '--out', 'grid.png', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 samples \(ddim 3 steps, eta 0, guidance 1.5, classes 0,2; seed 4\) in .* s on wasm → grid.png/);
    expect(readFileSync(join(dir, 'grid.png')).subarray(1, 4).toString()).toBe('PNG');
    // Progress over the steps (plain lines when stderr is not a terminal).
    expect(r.stderr).toMatch(/sample 3\/3/);
  });

  it('bad input is one line and exit 2', () => {
    expectOneLine(run('diffuse', 'sample', tiny, '--steps', '0'), /inflow: option '--steps <n>' argument '0' is invalid. expected a positive integer, got '0'/);
    expectOneLine(run('diffuse', 'sample', tiny, '--steps', '-3'), /expected a positive integer, got '-3'/);
    expectOneLine(run('diffuse', 'sample', tiny, '--steps', '26', '--backend', 'wasm'), /steps = 26 must be an integer from 1 to 25/);
    expectOneLine(run('diffuse', 'sample', tiny, '--label', '7', '--backend', 'wasm'), /label 7 \(image 0\) is not a class of this model \(0…2\)/);
    expectOneLine(run('diffuse', 'sample', tiny, '--label', 'seven'), /expected class numbers separated by commas/);
    expectOneLine(run('diffuse', 'sample', tiny, '--guidance', 'NaN'), /option '--guidance <w>' argument 'NaN' is invalid. expected a number, got 'NaN'/);
    expectOneLine(run('diffuse', 'sample', tiny, '--guidance', '-1', '--backend', 'wasm'), /guidance = -1 must be a number from 0 to 100/);
    expectOneLine(run('diffuse', 'sample', tiny, '--eta', '2', '--backend', 'wasm'), /eta = 2 must be a number from 0 to 1/);
    expectOneLine(run('diffuse', 'sample', tiny, '--method', 'euler'), /--method.*euler/);
    expectOneLine(run('diffuse', 'sample', tiny, '--bogus'), /unknown option '--bogus'/);
    expectOneLine(run('diffuse', 'sample', join(dir, 'nope.safetensors'), '--backend', 'wasm'), /nope.safetensors: model file not found/);
    expectOneLine(run('diffuse', 'sample', flow, '--backend', 'wasm'), /flow.safetensors: not an inflow diffusion model file .*use `inflow sample`/);
    expectOneLine(run('diffuse', 'eval', tiny, '--backend', 'wasm'), /the classifier takes 1×28×28 images, the model draws 1×8×8/);
    expectOneLine(run('diffuse', 'eval', tiny, '--threshold', '2'), /--threshold 2 must be in \(0, 1\]/);
  });
});

describe('inflow diffuse train', () => {
  it('bad flags are one line naming the flag, before any data loads', () => {
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--attention', '5'), /--attention entry 1 5 is not a feature-map size of this UNet \(28, 14, 7\)/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--groups', '12'), /--groups 12 must divide every level's channels \(level 0 has 32\)/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--timesteps', '10'), /--timesteps 10 is too few for the linear schedule/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--lr', '0'), /--lr 0 must be a positive number/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--channel-mults', '1,0'), /--channel-mults.*expected positive integers separated by commas/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--classes', '5', '--backend', 'wasm'), /mnist-train has labels up to 9: use --classes 10/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--resume', '--checkpoint-dir', join(dir, 'none')), /--resume: no checkpoint at/);
  });

  it('trains, checkpoints and resumes; the model file it writes samples and is judged by the digit classifier', () => {
    const common = ['--data', 'mnist', '--classes', '10', '--base-channels', '8', '--channel-mults', '1,2', '--attention', '14', '--groups', '4', '--heads', '2',
      '--timesteps', '50', '--sample-steps', '5', '--batch', '4', '--checkpoint-dir', 'run', '--checkpoint-every', '2', '--out', 'run/model.safetensors', '--backend', 'wasm', '--threads', '1'];
    const first = run('diffuse', 'train', ...common, '--max-steps', '2');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/0\.04\dM parameters, 10 classes \(label dropout 0.1\); linear schedule, T 50/);
    expect(existsSync(join(dir, 'run', 'checkpoint.safetensors'))).toBe(true);
    const resumed = run('diffuse', 'train', '--checkpoint-dir', 'run', '--out', 'run/model.safetensors', '--resume', '--max-steps', '3', '--data', 'mnist', '--backend', 'wasm', '--threads', '1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming at step 2/);
    expect(resumed.stdout).toMatch(/done: 1 steps/);
    const log = readFileSync(join(dir, 'run', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number });
    expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
    const sampled = run('diffuse', 'sample', 'run/model.safetensors', '--n', '3', '--out', 'run/grid.png', '--backend', 'wasm');
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(sampled.stdout).toMatch(/3 samples \(ddim 5 steps, eta 0, guidance 2, classes 0,1,2,3,4,5,6,7,8,9; seed 0\)/);
    const judged = run('diffuse', 'eval', 'run/model.safetensors', '--n', '4', '--batch', '2', '--steps', '2', '--json', 'run/eval.json', '--backend', 'wasm');
    expect(judged.code, judged.stderr).toBe(0);
    expect(judged.stdout).toMatch(/^\d\/4 \(\d+\.\d%\) samples classified as their class with p ≥ 0.9; \d \(.*\) as some class \(ddim 2 steps, eta 0, guidance 2, seed 0;/);
    const json = JSON.parse(readFileSync(join(dir, 'run', 'eval.json'), 'utf8')) as { n: number; perClass: number[][] };
    expect(json.n).toBe(4);
    expect(json.perClass.map((c) => c[1])).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  }, 120_000);

  it('--prediction v is saved in the model file and kept by --resume', async () => {
    const common = ['--data', 'mnist', '--base-channels', '8', '--channel-mults', '1,2', '--attention', '14', '--groups', '4', '--heads', '2',
      '--timesteps', '50', '--sample-steps', '2', '--batch', '2', '--checkpoint-dir', 'vrun', '--checkpoint-every', '1', '--out', 'vrun/model.safetensors', '--backend', 'wasm', '--threads', '1'];
    const first = run('diffuse', 'train', ...common, '--prediction', 'v', '--max-steps', '1');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/T 50, predicting v;/);
    const resumed = run('diffuse', 'train', '--checkpoint-dir', 'vrun', '--out', 'vrun/model.safetensors', '--resume', '--max-steps', '2', '--data', 'mnist', '--backend', 'wasm', '--threads', '1');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/T 50, predicting v;/);
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const model = await loadDiffusionModel(join(dir, 'vrun', 'model.safetensors'), { engine });
    expect(model.config.prediction).toBe('v');
    model.dispose();
    engine.dispose();
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--prediction', 'x0'), /--prediction.*x0.*(epsilon, v|Allowed choices)/);
  }, 120_000);
});
