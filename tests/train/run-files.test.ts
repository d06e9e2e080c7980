import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { InflowError } from '../../src/engine/errors.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { cleanStaleTemps, writeFileAtomic } from '../../src/io/atomic-write.js';
import { encodeImageGrid } from '../../src/io/png.js';
import { encodeSafetensors, ModelFileError } from '../../src/io/safetensors.js';
import { Linear } from '../../src/nn/linear.js';
import { Module } from '../../src/nn/module.js';
import { loadCheckpoint, saveCheckpoint, type TrainState } from '../../src/train/checkpoint.js';
import { checkpointPath, defaultLoopOptions, runTraining, truncateLog, validateLoopOptions, type LoopOptions } from '../../src/train/loop.js';
import { AutoencoderTask } from '../../src/train/tasks/autoencoder.js';
import { tensorData, type TensorData } from '../../src/train/tensor-data.js';

/*
 * The files of a training run as hostile or unlucky conditions leave them (issue 11): damaged
 * checkpoint metadata, a checkpoint path that is a folder or a pipe, temp files of killed runs,
 * a JSONL log that a resumed run would repeat, data that does not fit the batch or the checkpoint.
 */

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ backend: 'reference' });
});
afterAll(() => engine.dispose());

const fresh = (): string => mkdtempSync(join(tmpdir(), 'inflow-run-files-'));

/** A process id that is certainly not running: a child's, after it exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const goodState: TrainState = {
  step: 3, epoch: 0, cursor: 6, order: [0, 1, 2, 3, 4, 5, 6, 7], rng: { words: [1, 2, 3, 4], spare: null },
  optimizerSteps: 3, consecutiveBad: 0, options: { batch: 2 },
};

/** A checkpoint file whose state metadata is `state` (any JSON text). */
function checkpointWithState(dir: string, state: string, config = '{"kind":"x"}'): string {
  const path = join(dir, `ckpt-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(path, encodeSafetensors(new Map([['model/w', { shape: [2], data: new Float32Array(2) }]]),
    { format: 'inflow-checkpoint-1', config, state }));
  return path;
}

describe('loadCheckpoint refuses what it cannot resume from, in one line (ModelFileError)', () => {
  const dir = fresh();

  it('reads back what saveCheckpoint wrote', () => {
    const path = join(dir, 'good.safetensors');
    saveCheckpoint(path, { modelConfig: { kind: 'x' }, weights: new Map([['w', { shape: [2], data: Float32Array.of(1, 2) }]]), optimizer: new Map(), state: goodState });
    const ckpt = loadCheckpoint(path);
    expect(ckpt.state).toEqual(goodState);
    expect(Array.from(ckpt.weights.get('w')!.data)).toEqual([1, 2]);
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['a string step', { ...goodState, step: 'abc' }, /checkpoint metadata is damaged: state\.step must be a whole number ≥ 0$/],
    ['a negative step', { ...goodState, step: -1 }, /state\.step must be a whole number ≥ 0$/],
    ['a missing cursor', { ...goodState, cursor: undefined }, /state\.cursor must be a whole number ≥ 0$/],
    ['a fractional order entry', { ...goodState, order: [0, 1.5] }, /state\.order\.1 must be a whole number ≥ 0$/],
    ['three RNG words', { ...goodState, rng: { words: [1, 2, 3], spare: null } }, /state\.rng\.words must hold four 32-bit words$/],
    ['an RNG word over 32 bits', { ...goodState, rng: { words: [1, 2, 3, 2 ** 40], spare: null } }, /state\.rng\.words\.3 must be 32-bit words$/],
    ['options that are not an object', { ...goodState, options: 'fast' }, /state\.options must be an object$/],
    ['a cursor past the order', { ...goodState, cursor: 9 }, /state\.cursor 9 is past the end of state\.order \(8 entries\)/],
    ['null', null, /checkpoint metadata is damaged: state must be an object$/],
  ];
  for (const [what, state, message] of cases)
    it(`state with ${what}`, () => {
      const path = checkpointWithState(dir, JSON.stringify(state));
      expect(() => loadCheckpoint(path)).toThrow(ModelFileError);
      expect(() => loadCheckpoint(path)).toThrow(message);
    });

  it('state or config that is not JSON, or a config that is not an object', () => {
    expect(() => loadCheckpoint(checkpointWithState(dir, '{"step": 3,'))).toThrow(/checkpoint metadata is damaged: state is not valid JSON$/);
    expect(() => loadCheckpoint(checkpointWithState(dir, JSON.stringify(goodState), '[1]'))).toThrow(/checkpoint metadata is damaged: config must be an object$/);
  });

  it('a folder, a named pipe or a missing file, without opening it', () => {
    const folder = join(dir, 'folder.safetensors');
    mkdirSync(folder);
    expect(() => loadCheckpoint(folder)).toThrow(/folder\.safetensors: is a folder, not a checkpoint file$/);
    const fifo = join(dir, 'pipe.safetensors');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // Opening a FIFO with no writer blocks forever: this would hang if the loader tried.
    expect(() => loadCheckpoint(fifo)).toThrow(/pipe\.safetensors: is a named pipe \(FIFO\), not a checkpoint file$/);
    expect(() => loadCheckpoint(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: checkpoint not found$/);
  });
});

describe('atomic writes', () => {
  it('stale temp files of dead processes (and of an earlier process with this id) are removed; a live writer\'s stay', () => {
    const dir = fresh();
    const dead = deadPid();
    const names = {
      dead: `.checkpoint.safetensors.${dead}.1700000000000.tmp`,
      mine: `.checkpoint.safetensors.${process.pid}.1700000000000.tmp`,
      live: `.checkpoint.safetensors.${process.ppid}.1700000000000.tmp`,
      otherFile: `.train.jsonl.${dead}.1700000000000.tmp`,
      unrelated: 'notes.tmp',
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x');
    expect(cleanStaleTemps(dir, 'checkpoint.safetensors').map((p) => p.slice(dir.length + 1)).sort()).toEqual([names.dead, names.mine].sort());
    expect(cleanStaleTemps(dir).map((p) => p.slice(dir.length + 1))).toEqual([names.otherFile]);
    expect(readdirSync(dir).sort()).toEqual([names.live, names.unrelated].sort());
  });

  it('a folder or a pipe at the target is refused, not replaced', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'out.png'));
    expect(() => writeFileAtomic(join(dir, 'out.png'), 'x')).toThrow(/out\.png: cannot write here, it is a folder; give a file name$/);
    const fifo = join(dir, 'pipe.png');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => writeFileAtomic(fifo, 'x')).toThrow(InflowError);
    expect(() => writeFileAtomic(join(dir, 'no', 'such', 'folder.png'), 'x')).toThrow(/folder\.png: cannot write \(no such file or folder \(ENOENT\)\)$/);
    expect(readdirSync(dir).sort()).toEqual(['out.png', 'pipe.png']);
  });

  it('a grid of grey images is a one-channel PNG; colour stays three; pixels land in their cells', async () => {
    const sharp = (await import('sharp')).default;
    const grey = new Float32Array(4 * 9).map((_, i) => i * 7);
    const png = await encodeImageGrid(grey, [4, 1, 3, 3], 2);
    const meta = await sharp(png).metadata();
    expect([meta.channels, meta.width, meta.height]).toEqual([1, 12, 12]);
    const g = await sharp(png).extractChannel(0).raw().toBuffer();
    // Image 3 (second row, second column) starts at (2 + 5, 2 + 5); its first pixel is 3·9·7.
    expect(g[7 * 12 + 7]).toBe(189);
    const rgb = await sharp(await encodeImageGrid(new Float32Array(2 * 3 * 4), [2, 3, 2, 2])).metadata();
    expect(rgb.channels).toBe(3);
  });

  it('a PNG grid too large to write is refused before it is built', async () => {
    await expect(encodeImageGrid(new Float32Array(64 * 784), [64, 1, 28, 28], undefined, 1000))
      .rejects.toThrow(/encodeImageGrid: a 242000×242000 grid \(scale 1000\) is over the 100-megapixel limit/);
  });
});

// ---- the loop: run folder, log, data -------------------------------------------------------------

class Tiny extends Module {
  readonly enc: Linear;
  readonly dec: Linear;
  readonly config = { kind: 'tiny-autoencoder' };
  constructor(e: Engine, seed: number) {
    super(e);
    const rng = new Rng(seed);
    this.enc = this.child('enc', new Linear(e, 4, 2, { rng }));
    this.dec = this.child('dec', new Linear(e, 2, 4, { rng }));
  }
  encode(x: Tensor): Tensor { return this.enc.forward(x); }
  decode(z: Tensor): Tensor { return this.dec.forward(z); }
}

const points = (n: number): TensorData => tensorData(Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [4]);
const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, warmupSteps: 0, epochs: 100, batch: 2, lr: 0.01, ...o });

async function run(data: TensorData, o: Partial<LoopOptions>, onCheckpoint?: (path: string, step: number) => void, resumeFrom?: string) {
  const model = new Tiny(engine, 1);
  const task = new AutoencoderTask(model);
  try {
    return await runTraining(task, data, opts(o), onCheckpoint ? { onCheckpoint } : {}, resumeFrom ? loadCheckpoint(resumeFrom) : undefined);
  } finally {
    task.dispose();
    model.dispose();
  }
}

const logSteps = (path: string): number[] =>
  readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);

describe('a training run and its folder', () => {
  it('cleans the temp files killed runs left in the checkpoint folder when it starts', async () => {
    const dir = fresh();
    const stale = join(dir, `.checkpoint.safetensors.${deadPid()}.1700000000000.tmp`);
    writeFileSync(stale, 'half a checkpoint');
    await run(points(8), { maxSteps: 1, checkpointDir: dir });
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
  });

  it('a resumed run cuts the JSONL log back to its checkpoint: every step appears once', async () => {
    const dir = fresh();
    const log = join(dir, 'train.jsonl');
    const atStep4 = join(dir, 'step4.safetensors');
    // Checkpoints at 4 and 6; the copy at 4 stands for a run killed after logging step 6.
    await run(points(8), { maxSteps: 6, checkpointDir: dir, checkpointEvery: 4, logPath: log },
      (path, step) => { if (step === 4) copyFileSync(path, atStep4); });
    expect(logSteps(log)).toEqual([1, 2, 3, 4, 5, 6]);
    writeFileSync(log, readFileSync(log, 'utf8') + '{"step": 7, "lo');     // torn by the kill
    copyFileSync(atStep4, checkpointPath(dir));
    const r = await run(points(8), { maxSteps: 8, checkpointDir: dir, checkpointEvery: 4, logPath: log }, undefined, checkpointPath(dir));
    expect(r.steps).toBe(4);
    expect(logSteps(log)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a fresh run starts its log over', async () => {
    const dir = fresh();
    const log = join(dir, 'train.jsonl');
    await run(points(8), { maxSteps: 3, logPath: log });
    await run(points(8), { maxSteps: 2, logPath: log });
    expect(logSteps(log)).toEqual([1, 2]);
  });

  it('truncateLog keeps lines without a step (a header) and refuses a log that is not a file', () => {
    const dir = fresh();
    const log = join(dir, 'log.jsonl');
    writeFileSync(log, '{"run":"a"}\n{"step":1}\n{"step":2}\n{"step":3}\n');
    truncateLog(log, 2);
    expect(readFileSync(log, 'utf8')).toBe('{"run":"a"}\n{"step":1}\n{"step":2}\n');
    mkdirSync(join(dir, 'folder.jsonl'));
    expect(() => truncateLog(join(dir, 'folder.jsonl'), 0)).toThrow(/folder\.jsonl: the training log is a folder, not a file$/);
  });

  it('a batch larger than the data, or a checkpoint of other data, is an InflowError saying so', async () => {
    await expect(run(points(3), { batch: 4 })).rejects.toThrow(/^train: batch 4 is more than the 3 training examples; use a batch of 3 or fewer$/);
    const dir = fresh();
    await run(points(8), { maxSteps: 2, checkpointDir: dir });
    const err = await run(points(6), { maxSteps: 4, checkpointDir: dir }, undefined, checkpointPath(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InflowError);
    expect((err as Error).message).toMatch(/the checkpoint was written for a training set of 8 examples, this one has 6: resume with the same data/);
    // The right length but an entry twice: it would train on a wrong order without a word.
    const ckpt = loadCheckpoint(checkpointPath(dir));
    ckpt.state.order[0] = ckpt.state.order[1]!;
    const model = new Tiny(engine, 1);
    const task = new AutoencoderTask(model);
    await expect(runTraining(task, points(8), opts({ maxSteps: 4 }), {}, ckpt))
      .rejects.toThrow(/the checkpoint's data order is not a permutation of its 8 examples \(entry \d\): the checkpoint is damaged/);
    task.dispose();
    model.dispose();
  });

  it('option errors are InflowErrors (the CLI prints them as one line, not as an internal error)', () => {
    expect(() => validateLoopOptions(opts({ lr: -1 }))).toThrow(InflowError);
    expect(() => validateLoopOptions(opts({ lr: Number.NaN }))).toThrow(/^train: lr = NaN must be a positive number$/);
    expect(() => validateLoopOptions(opts({ seed: 0.5 }))).toThrow(/seed = 0\.5 must be an integer/);
  });
});
