import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { engineFrom } from '../../src/cli/engine-option.js';
import { buildProgram } from '../../src/cli/main.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { fincFlow } from '../../src/models/index.js';
import { pngHeader } from '../data/png-header.js';
import { expectOneLine, runCli, runCliInProcess as inProcess } from '../helpers/cli.js';

/*
 * The CLI cases of issue 11: numbers that parsed as NaN (`--seed abc` ran as seed 0, `demo
 * --temperature abc` wrote a black PNG after 64 s, both exit 0), `--threads 1000`, a folder with
 * fewer images than --batch ("internal error", exit 1), a FIFO in an image folder (blocked
 * forever), paths that are folders where files belong. Each is refused in one line, exit 2.
 * Most cases run main() in this process (the parsing and path checks come before any engine);
 * the ones the issue reported from a shell run as a real `inflow` process.
 */

const dir = mkdtempSync(join(tmpdir(), 'inflow-careless-'));
const model = join(dir, 'tiny.safetensors');

beforeAll(async () => {
  const engine = await createEngine({ backend: 'reference' });
  await saveModel(fincFlow({ inputShape: [1, 8, 8], levels: 2, steps: 2, width: 8 }, { engine }), model);
  engine.dispose();
});

afterEach(() => {
  vi.restoreAllMocks();
});


describe('numbers on the command line parse strictly', () => {
  it('inflow sample --seed abc and inflow demo --temperature abc: refused at once, exit 2 (a real process each)', () => {
    expectOneLine(runCli(dir, ['sample', model, '--seed', 'abc']), /^inflow: option '--seed <n>' argument 'abc' is invalid\. expected an integer, got 'abc'$/);
    expectOneLine(runCli(dir, ['demo', '--temperature', 'abc']), /^inflow: option '--temperature <t>' argument 'abc' is invalid\. expected a number, got 'abc'$/);
  }, 60_000);

  it("'', '1e', 'NaN', 'Infinity', '0x10' and ' ' are not numbers; 1.5 is not an integer", async () => {
    for (const bad of ['', '1e', 'NaN', 'Infinity', '-Infinity', '0x10', ' ', '1,5'])
      expectOneLine(await inProcess('sample', model, '--temperature', bad), new RegExp(`argument '${bad}' is invalid\\. expected a number, got '${bad}'$`));
    for (const bad of ['', '1e', 'NaN', '1.5', '1e3', '99999999999999999999'])
      expectOneLine(await inProcess('sample', model, '--seed', bad), new RegExp(`argument '${bad}' is invalid\\. expected an integer`));
    expectOneLine(await inProcess('sample', model, '--n', '0'), /option '--n <count>' argument '0' is invalid\. expected a positive integer, got '0'$/);
    expectOneLine(await inProcess('train', '--warmup', '-1'), /option '--warmup <steps>' argument '-1' is invalid\. expected a whole number ≥ 0/);
    expectOneLine(await inProcess('sample', model, '--label', '1,x'), /option '--label <classes>' argument '1,x' is invalid\. expected class numbers/);
  });

  it('ranges are the library\'s: a parsed but out-of-range temperature or seed is refused by FlowModel.sample', async () => {
    const out = ['--backend', 'reference', '--out', join(dir, 'never.png')];
    expectOneLine(await inProcess('sample', model, '--temperature', '-1', ...out), /^inflow: FlowModel\.sample: temperature = -1 must be/);
    expectOneLine(await inProcess('sample', model, '--temperature', '1e30', ...out), /^inflow: FlowModel\.sample: temperature = 1e\+30 must be/);
    expectOneLine(await inProcess('sample', model, '--seed', '-1', ...out), /^inflow: FlowModel\.sample: seed = -1 must be/);
  });

  it('every option of every command that takes a value checks it: none lets "abc" or "NaN" through', async () => {
    const program = buildProgram();
    let checked = 0;
    for (const cmd of program.commands) {
      const positional = cmd.registeredArguments.some((a) => a.required) ? [model] : [];
      for (const opt of cmd.options) {
        if (!opt.required || !opt.parseArg) continue;
        for (const bad of ['abc', 'NaN']) {
          const r = await inProcess(cmd.name(), ...positional, opt.long!, bad);
          expectOneLine(r, new RegExp(`option '${opt.flags.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' argument '${bad}' is invalid`));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('engine flags: --threads, --memory-budget', () => {
  it('--threads 1000 is one line naming the flag and the limit', async () => {
    expectOneLine(await inProcess('info', '--threads', '1000'), /^inflow: --threads 1000 is more than the 64 worker threads/);
  });

  it('every command that builds an engine takes --memory-budget <size>, and the engine gets it', async () => {
    const program = buildProgram();
    for (const name of ['train', 'sample', 'eval', 'demo', 'info', 'train-classifier']) {
      const cmd = program.commands.find((c) => c.name() === name)!;
      expect(cmd.helpInformation().replace(/\s+/g, ' '), name).toMatch(/--memory-budget <size> most memory a model's weights plus one batch may take/);
    }
    expectOneLine(await inProcess('sample', model, '--memory-budget', '2 apples'), /option '--memory-budget <size>' argument '2 apples' is invalid\. expected a size in bytes such as 512M/);
    const engine = await engineFrom({ backend: 'reference', memoryBudget: 3 * 2 ** 20 });
    expect(engine.memoryBudget).toBe(3 * 2 ** 20);
    engine.dispose();
  });
});

describe('paths: every file the CLI reads or writes is named in its one-line error', () => {
  it('--out, --log or --checkpoint-dir of the wrong kind fails before any work (and creates nothing)', async () => {
    const folder = join(dir, 'a-folder.png');
    mkdirSync(folder, { recursive: true });
    expectOneLine(await inProcess('sample', model, '--out', folder), /^inflow: --out .*a-folder\.png: is a folder; give a file name to write$/);
    expectOneLine(await inProcess('train', '--data', 'mnist', '--log', folder), /^inflow: --log .*a-folder\.png: is a folder; give a file name to write$/);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expectOneLine(await inProcess('train', '--data', 'mnist', '--checkpoint-dir', file), /^inflow: --checkpoint-dir .*a-file: is a file, not a folder$/);
    expectOneLine(await inProcess('train', '--data', 'mnist', '--out', join(file, 'model.safetensors')), /^inflow: --out .*a-file\/model\.safetensors: cannot create the folder .*a-file: .*a-file is a file$/);
  });

  it('--resume from a checkpoint that is a folder, or whose state is damaged', async () => {
    const folderCkpt = join(dir, 'run-folder');
    mkdirSync(join(folderCkpt, 'checkpoint.safetensors'), { recursive: true });
    expectOneLine(await inProcess('train', '--data', 'mnist', '--resume', '--checkpoint-dir', folderCkpt),
      /^inflow: --resume: .*checkpoint\.safetensors: is a folder, not a checkpoint file$/);
    const damaged = join(dir, 'run-damaged');
    mkdirSync(damaged);
    writeFileSync(join(damaged, 'checkpoint.safetensors'), encodeSafetensors(new Map([['model/w', { shape: [1], data: new Float32Array(1) }]]),
      { format: 'inflow-checkpoint-1', config: '{}', state: JSON.stringify({ step: 'abc' }) }));
    expectOneLine(await inProcess('train', '--data', 'mnist', '--resume', '--checkpoint-dir', damaged),
      /^inflow: --resume: .*checkpoint\.safetensors: checkpoint metadata is damaged: state\.step must be a whole number ≥ 0$/);
  });

  it('a folder given as the model file, a grid too large to write, an option the library refuses', async () => {
    const r = await inProcess('sample', dir, '--backend', 'reference');
    expectOneLine(r, new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*folder`));
    expectOneLine(await inProcess('sample', model, '--scale', '100000', '--backend', 'reference', '--out', join(dir, 's.png')),
      /^inflow: encodeImageGrid: a .* grid \(scale 100000\) is over the 100-megapixel limit of a PNG grid; lower the scale/);
    expectOneLine(await inProcess('train', '--data', 'mnist', '--lr', '-1'), /^inflow: train: lr = -1 must be a positive number$/);
    expectOneLine(await inProcess('train', '--data', 'mnist', '--decay', '2'), /^inflow: train: decay = 2 must be in \(0, 1\]$/);
  });
});

describe('image folders on the command line', () => {
  it('a FIFO and a 16000² header are skipped with a warning each; fewer images than --batch is one line, exit 2 (a real process)', async () => {
    const images = join(dir, 'images');
    mkdirSync(images);
    for (const r of [10, 90, 170])
      await sharp({ create: { width: 12, height: 12, channels: 3, background: { r, g: 30, b: 60 } } }).png().toFile(join(images, `img-${r}.png`));
    expect(spawnSync('mkfifo', [join(images, 'pipe.png')]).status).toBe(0);
    writeFileSync(join(images, 'huge.png'), pngHeader(16000, 16000));
    const r = runCli(dir, ['train', '--images', images, '--levels', '1', '--steps', '1', '--width', '8', '--batch', '64',
      '--backend', 'reference', '--checkpoint-dir', join(dir, 'ckpt'), '--out', join(dir, 'm.safetensors')], 60_000);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^skipping .*huge\.png: 16000×16000 pixels is over the limit of 50000000 pixels per image/);
    expect(lines[1]).toMatch(/^skipping .*pipe\.png: it is a named pipe \(FIFO\), not an image file$/);
    expect(lines[2]).toMatch(/^inflow: --batch 64 is more than the 3 training images \(3 images from .*images, 0 held out\); use --batch 3 or fewer, or add images$/);
  }, 60_000);
});
