import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { fincFlow } from '../../src/models/index.js';
import { expectOneLine, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-cli-'));
const modelPath = join(dir, 'mnist.safetensors');
const run = (...args: string[]) => runCli(dir, args);

beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = fincFlow({ inputShape: [1, 28, 28], levels: 2, steps: 1, width: 8 }, { engine });
  await saveModel(model, modelPath);
  engine.dispose();
  const imgs = join(dir, 'images');
  mkdirSync(imgs);
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 10, b: 50 } } }).png().toFile(join(imgs, 'good.png'));
  writeFileSync(join(imgs, 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
});

describe('the CLI reports user mistakes in one line with a non-zero exit code', () => {
  it('missing model file', () => {
    expectOneLine(run('sample', join(dir, 'nope.safetensors')), /inflow: .*nope.safetensors: model file not found/);
  });
  it('truncated model file', () => {
    const truncated = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(modelPath);
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 64));
    expectOneLine(run('inspect', truncated), /truncated.safetensors: .*\(truncated\?\)/);
    expectOneLine(run('eval', truncated, '--data', 'mnist', '--backend', 'wasm'), /truncated.safetensors: .*\(truncated\?\)/);
  });
  it('corrupt PNG when the user chose to stop on it', () => {
    expectOneLine(run('eval', modelPath, '--images', join(dir, 'images'), '--on-corrupt', 'stop', '--backend', 'wasm'),
      /broken.png: cannot read image/);
  });
  it('unknown backend', () => {
    expectOneLine(run('info', '--backend', 'cuda'), /inflow: option '--backend <name>' argument 'cuda' is invalid/);
  });
  it('bad flag value', () => {
    expectOneLine(run('sample', modelPath, '--n', 'many'), /expected a positive integer, got 'many'/);
    expectOneLine(run('train', '--data', 'mnist', '--momentum', '0.9'), /--momentum applies to --optimizer sgd, not adam/);
    expectOneLine(run('train', '--data', 'mnist', '--optimizer', 'rmsprop'), /--optimizer.*rmsprop/);
  });
  it('--init with a missing model, architecture flags, --resume, or a different --model', () => {
    expectOneLine(run('train', '--init', join(dir, 'nope.safetensors'), '--data', 'mnist', '--backend', 'wasm'), /--init: .*nope.safetensors: model file not found/);
    expectOneLine(run('train', '--init', modelPath, '--width', '16', '--data', 'mnist', '--backend', 'wasm'), /--init takes the architecture from .*; drop --width/);
    expectOneLine(run('train', '--init', modelPath, '--resume', '--data', 'mnist'), /--init and --resume do not mix/);
    expectOneLine(run('train', '--init', modelPath, '--model', 'glow', '--data', 'mnist', '--backend', 'wasm'), /--init: .*mnist.safetensors is a finc model, not --model glow/);
  });
  it('model / data shape mismatch', () => {
    const r = run('eval', modelPath, '--images', join(dir, 'images'), '--backend', 'wasm');
    // The folder images are resized to the model's own input, so a mismatch needs CIFAR data:
    expect(r.code).toBe(0);
    const cifar = join(dir, 'data_batch_1.bin');
    writeFileSync(cifar, new Uint8Array(3073 * 2));
    expectOneLine(run('eval', modelPath, '--cifar', cifar, '--backend', 'wasm'), /the model takes 1×28×28 images but cifar10 has 3×32×32/);
  });
});
