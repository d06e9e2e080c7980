import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { fincFlow } from '../../src/models/index.js';
import { expectOneLine, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-classes-'));
const run = (...args: string[]) => runCli(dir, args, 120_000);
const plainModel = join(dir, 'plain.safetensors');
const bundled = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));

// An unconditional MNIST-shaped flow to add classes to (the bundled model already has them).
beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = fincFlow({ inputShape: [1, 28, 28], levels: 2, steps: 2, width: 16 }, { engine, seed: 1 });
  model.initialize(engine.tensor(Float32Array.from({ length: 4 * 784 }, (_, i) => (i * 37) % 256 + 0.5), [4, 1, 28, 28]));
  await saveModel(model, plainModel);
  model.dispose();
  engine.dispose();
});
const classModel = join(dir, 'with-classes.safetensors');
const coupledModel = join(dir, 'with-class-couplings.safetensors');
const quick = ['--data', 'mnist', '--max-steps', '1', '--batch', '16', '--backend', 'wasm', '--threads', '1'];

describe('class priors on the command line', () => {
  it('train --init --classes adds a fitted class prior to a saved flow; sample --label draws a class', () => {
    const r = run('train', '--init', plainModel, '--classes', '10', ...quick, '--checkpoint-dir', join(dir, 'ckpt'), '--out', classModel);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/class prior fitted to the top latent .*images per class: (\d+, ){9}\d+\)/);
    expect(r.stdout).toMatch(/10-class prior/);
    const info = run('inspect', classModel);
    expect(info.stdout).toMatch(/class prior over 10 classes/);
    expect(info.stdout).toMatch(/prior {30,}7,840/);
    const s = run('sample', classModel, '--n', '4', '--label', '3,7', '--backend', 'wasm', '--out', join(dir, 'threes.png'));
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/classes 3,7/);
    expect(existsSync(join(dir, 'threes.png'))).toBe(true);
    // Then let every coupling network see the label as well: the prior is kept, not refitted.
    const cc = run('train', '--init', classModel, '--class-couplings', ...quick, '--checkpoint-dir', join(dir, 'ckpt2'), '--out', coupledModel);
    expect(cc.code, cc.stderr).toBe(0);
    expect(cc.stdout).not.toMatch(/class prior fitted/);
    expect(cc.stdout).toMatch(/10-class prior and label-aware couplings/);
    expect(run('inspect', coupledModel).stdout).toMatch(/class prior over 10 classes, label-aware couplings/);
  }, 240_000);

  it('refuses what cannot work, in one line', () => {
    // Labels are checked by the library (FlowModel.sample), not by a copy in the CLI.
    expectOneLine(run('sample', plainModel, '--label', '3', '--backend', 'wasm'), /labels were given but the model has no class prior/);
    expectOneLine(run('sample', plainModel, '--label', 'three'), /option '--label <classes>' argument 'three' is invalid\. expected class numbers separated by commas/);
    expect(existsSync(classModel)).toBe(true);
    expectOneLine(run('sample', classModel, '--label', '12', '--backend', 'wasm'), /label 12 .*not a class of this model \(0…9\)/);
    expectOneLine(run('train', '--init', classModel, '--classes', '5', ...quick), /already has a 10-class prior; drop --classes 5/);
    expectOneLine(run('sample', bundled, '--label', '10', '--backend', 'wasm'), /label 10 .*not a class of this model \(0…9\)/);
    expectOneLine(run('train', '--classes', '1', ...quick), /classes = 1 must be an integer from 2 to 1000/);
    expectOneLine(run('train', '--class-couplings', ...quick), /classCouplings needs classes/);
    expectOneLine(run('train', '--init', plainModel, '--class-couplings', ...quick), /--class-couplings needs --classes/);
  }, 240_000);
});
