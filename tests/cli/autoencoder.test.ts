import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { saveAutoencoder } from '../../src/models/autoencoder/autoencoder-file.js';
import { CouplingAutoencoder } from '../../src/models/autoencoder/coupling-autoencoder.js';
import { expectOneLine, runCli, runCliInProcess } from '../helpers/cli.js';
import { tinyCoupling } from '../models/autoencoder-fixtures.js';
import { tinyConfig } from '../models/diffusion-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-autoencoder-cli-'));
const run = (...args: string[]) => runCli(dir, args);
/** Checks that fail before any work run main() in this process (absolute paths: its cwd is the repository's). */
const check = (...args: string[]) => runCliInProcess(...args);
const tiny = join(dir, 'tiny.safetensors'), diffusion = join(dir, 'diffusion.safetensors');

beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const ae = new CouplingAutoencoder(engine, tinyCoupling());
  await saveAutoencoder(ae, tiny);
  ae.dispose();
  const dm = new DiffusionModel(engine, tinyConfig());
  await saveDiffusionModel(dm, diffusion);
  dm.dispose();
  engine.dispose();
});

describe('inflow autoencoder: bad input is one line and exit 2', () => {
  it('train: flags checked before any data loads', async () => {
    expectOneLine(run('autoencoder', 'train', '--data', 'mnist'), /--kind is required: 'coupling' .* or 'vae'/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'flow', '--data', 'mnist'), /--kind.*flow.*coupling, vae/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'vae', '--data', 'mnist', '--width', '8'), /--width is an option of --kind coupling, not of --kind vae/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'coupling', '--data', 'mnist', '--kl-weight', '1'), /--kl-weight is an option of --kind vae, not of --kind coupling/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'coupling', '--data', 'mnist', '--flow-steps', '0'), /option '--flow-steps <K>' argument '0' is invalid. expected a positive integer/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'coupling', '--data', 'mnist', '--latent-channels', '16'), /--latent-channels 16 must be below the 16 channels at H\/4 × W\/4/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'vae', '--data', 'mnist', '--groups', '5'), /--groups 5 must divide every level's channels \(level 0 has 16\)/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'vae', '--data', 'mnist', '--channel-mults', '1,2,2,2'), /the 1×28×28 images must have H and W divisible by 8 \(4 levels halve them 3 times\)/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'coupling', '--data', 'mnist', '--likelihood-weight', '-1'), /--likelihood-weight -1 must be ≥ 0/);
    expectOneLine(await check('autoencoder', 'train', '--kind', 'coupling', '--data', 'mnist', '--image-size', '32'), /--image-size applies to --images only/);
    expectOneLine(await check('autoencoder', 'train', '--data', 'mnist', '--resume', '--checkpoint-dir', join(dir, 'none')), /--resume: no checkpoint at .*none/);
  });

  it('eval: a missing file, a file of another kind, a bad flag', async () => {
    expectOneLine(await check('autoencoder', 'eval', join(dir, 'nope.safetensors'), '--backend', 'wasm'), /nope.safetensors: model file not found/);
    expectOneLine(await check('autoencoder', 'eval', diffusion, '--backend', 'wasm'), /not an inflow autoencoder file \(format "inflow-diffusion-1"\) \(a diffusion model: use `inflow diffuse`\)/);
    expectOneLine(await check('autoencoder', 'eval', tiny, '--backend', 'wasm'), /tiny.safetensors: the model takes 1×8×8 images, mnist-test has 1×28×28/);
    expectOneLine(await check('autoencoder', 'eval', tiny, '--n', '0'), /option '--n <count>' argument '0' is invalid/);
    expectOneLine(await check('autoencoder', 'eval'), /missing required argument 'model'/);
  });
});

describe('inflow autoencoder train → eval on MNIST', () => {
  it('trains, checkpoints, resumes, and the model file it writes is evaluated on the held-out digits', async () => {
    const common = ['--data', 'mnist', '--batch', '4', '--checkpoint-dir', 'run', '--checkpoint-every', '2', '--out', 'run/ae.safetensors', '--backend', 'wasm', '--threads', '1'];
    const first = run('autoencoder', 'train', '--kind', 'coupling', '--flow-steps', '1', '--width', '4', '--prior-width', '4', ...common, '--max-steps', '2');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/coupling autoencoder \(1 flow steps per level, width 4, prior width 4; likelihood weight 0.001\): 1×28×28 → 4×7×7, [\d,]+ parameters/);
    expect(existsSync(join(dir, 'run', 'checkpoint.safetensors'))).toBe(true);
    expectOneLine(await check('autoencoder', 'train', '--data', 'mnist', '--checkpoint-dir', join(dir, 'run'), '--resume', '--width', '8'), /--width: a resumed run keeps the checkpoint's architecture/);
    const resumed = run('autoencoder', 'train', ...common, '--resume', '--max-steps', '3');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming at step 2/);
    expect(resumed.stdout).toMatch(/done: 1 steps/);
    const log = readFileSync(join(dir, 'run', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; metrics: Record<string, number> });
    expect(log.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(Object.keys(log[0]!.metrics).sort()).toEqual(['nll', 'rec', 'recPsnr']);
    const ev = run('autoencoder', 'eval', 'run/ae.safetensors', '--n', '20', '--backend', 'wasm', '--threads', '1', '--json', 'run/eval.json', '--grid', 'run/grid.png');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/coupling-autoencoder 1×28×28 → 4×7×7 \(4.0× fewer values\): [\d,]+ parameters/);
    expect(ev.stdout).toMatch(/held-out reconstruction PSNR \d+\.\d\d dB \(mean over 20 images of mnist-test/);
    const json = JSON.parse(readFileSync(join(dir, 'run', 'eval.json'), 'utf8')) as { psnr: number; images: number };
    expect(json.images).toBe(20);
    expect(json.psnr).toBeGreaterThan(5);
    expect(readFileSync(join(dir, 'run', 'grid.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});
