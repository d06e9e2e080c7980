// `ceiling` suite: how much a second core gives this machine's work at all. The same shard programs
// that data parallelism runs (src/parallel/programs.ts) are run by two separate processes at once —
// no shared memory, no messages during the work, no code in common at run time — beside one process
// alone and beside DataParallel in this process, in alternating rounds. Two processes ÷ one thread is
// what a perfect split could reach here; data-parallel ÷ two processes is how much of it the library
// gets (docs/thread-scaling.md §5).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine, type Engine } from '../src/index.js';
import { loadModel } from '../src/io/model-file.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import type { NoiseSchedule } from '../src/models/diffusion/schedule.js';
import type { FlowModel } from '../src/models/index.js';
import type { UNet } from '../src/models/unet/unet.js';
import type { Module } from '../src/nn/module.js';
import { DataParallel } from '../src/parallel/data-parallel.js';
import { readAndFree, runProgram, type HostTensor, type ProgramArgs, type ProgramName } from '../src/parallel/programs.js';
import { shardRanges } from '../src/parallel/shards.js';
import { Rng } from '../src/data/rng.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { inBlocks, median, sideBySide, type TimingPlan } from './lib/timing.js';
import { pixels } from './peers/flow-pair.js';
import { CEILING_MODELS, type ChildReply, type ToChild } from './ceiling-protocol.js';

const PLANS: Record<'short' | 'long' | 'quick', TimingPlan> = {
  short: { warmup: 2, reps: 25, minReps: 9, budgetMs: 30000 },
  long: { warmup: 1, reps: 11, minReps: 7, budgetMs: 60000 },
  quick: { warmup: 0, reps: 2, minReps: 1, budgetMs: 0 },
};

/**
 * Sustained: one thread, data-parallel and the two processes each called in blocks, the first call
 * of a block dropped (bench/lib/timing.ts inBlocks). Alternating single calls leave the processes and
 * the replicas idle while the others run, and an idle core of a virtual machine comes back cold; the
 * one-thread contender, in the coordinating process, was busy just before. In blocks every contender
 * runs warm.
 */
const SUSTAINED = { block: 3, rounds: 3 };

/** one: this process, one thread; parallel: DataParallel on 2 threads; pair: two processes, half the batch each, at once; half: one of them alone. */
type Contender = 'one' | 'parallel' | 'pair' | 'half';

export interface CeilingRow {
  model: 'flow' | 'unet';
  task: 'forward' | 'sample' | 'train';
  batch: number;
  medianMs: Record<Contender, number>;
  samplesMs: Record<Contender, number[]>;
  /** Each process's own time for its half in the pair rounds (the program's wall time, without the messages). */
  pairOwnMs: [number[], number[]];
  parallelOverOne: number;
  /** The ceiling: one thread ÷ two processes. */
  pairOverOne: number;
  /** One thread ÷ half the batch alone: what a split could give if the two halves did not slow each other. */
  halfOverOne: number;
  /** Two processes ÷ one of them alone: how much each half slows while the other runs. */
  pairOverHalf: number;
  /** Data-parallel ÷ two processes: the share of the machine's ceiling the library reaches. */
  parallelOverPair: number;
  /** The same three contenders called in blocks of SUSTAINED.block (full runs only). */
  sustained: { medianMs: Record<'one' | 'parallel' | 'pair', number>; samples: number; parallelOverOne: number; pairOverOne: number; parallelOverPair: number } | null;
  /** forward / sample: the two processes' halves, joined, equal the one-thread output bit for bit (and data-parallel's). */
  identical: boolean | null;
}

class Child {
  private waiting: { resolve(r: ChildReply): void; reject(e: Error): void } | null = null;
  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: ChildReply) => {
      const w = this.waiting;
      this.waiting = null;
      if (m.type === 'error') w?.reject(new Error(`ceiling child: ${m.error}`));
      else w?.resolve(m);
    });
    proc.on('exit', (code) => this.waiting?.reject(new Error(`ceiling child exited with code ${code}`)));
  }

  /** A process with the parent's node flags (--no-liftoff, the TypeScript loader). */
  static start(): Child {
    return new Child(fork(fileURLToPath(new URL('./ceiling-child.ts', import.meta.url)), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  ask(m: ToChild): Promise<ChildReply> {
    if (this.waiting) throw new Error('ceiling child: one request at a time');
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.proc.send(m);
    });
  }

  async run(): Promise<{ ms: number; out: Float32Array | null }> {
    const r = await this.ask({ type: 'run' });
    if (r.type !== 'done') throw new Error('ceiling child: expected a result');
    return r;
  }

  stop(): void {
    // A process that already died has no channel left to send on.
    if (this.proc.connected) this.proc.send({ type: 'exit' } satisfies ToChild);
  }
}

export const ceilingBench: Suite = {
  name: 'ceiling',
  about: 'what two cores give perfectly independent work: the data-parallel shard programs in two processes at once vs one thread vs DataParallel (bundled flow and UNet, batch 16–32)',
  async run(ctx: SuiteContext) {
    if (ctx.threadsAll < 2) return { tables: [], data: { skipped: 'one core: nothing to compare' } };
    const children = [Child.start(), Child.start()];
    try {
      const rows = [...await flowRows(ctx, children), ...await unetRows(ctx, children)];
      return { tables: [ceilingTable(rows)], data: { files: Object.values(CEILING_MODELS).map((f) => f.slice(f.indexOf('models/'))), rows } };
    } finally {
      for (const c of children) c.stop();
    }
  },
};

interface Setup<M extends Module> { engines: Engine[]; one: M; dp: DataParallel }

async function setup<M extends FlowModel | UNet>(load: (e: Engine) => Promise<M>, children: Child[], model: keyof typeof CEILING_MODELS): Promise<Setup<M>> {
  const engines = await Promise.all([0, 1].map(() => createEngine({ backend: 'wasm', threads: 1 })));
  const [one, replicated] = await Promise.all(engines.map(load));
  for (const c of children) await c.ask({ type: 'load', model });
  return { engines, one: one!, dp: await DataParallel.create(replicated!, { threads: 2 }) };
}

async function teardown<M extends Module>(s: Setup<M>): Promise<void> {
  await s.dp.close();
  s.dp.model.dispose();
  s.one.dispose();
  for (const e of s.engines) e.dispose();
}

/** Images [start, end) of a host batch. */
function half(h: HostTensor, [start, end]: [number, number]): HostTensor {
  const per = h.data.length / h.shape[0]!;
  return { data: h.data.slice(start * per, end * per), shape: [end - start, ...h.shape.slice(1)] };
}

const cut = <T>(v: T[] | null, [a, b]: [number, number]): T[] | null => (v ? v.slice(a, b) : null);
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * Times one row: `program` on the whole batch in this process, DataParallel's own call, and the same
 * program on each half in the two processes. `split` cuts the whole batch's arguments into the halves.
 */
async function row<K extends ProgramName>(ctx: SuiteContext, children: Child[], s: Setup<FlowModel | UNet>, desc: Pick<CeilingRow, 'model' | 'task' | 'batch'>,
  program: K, args: ProgramArgs[K], split: (a: ProgramArgs[K], r: [number, number]) => ProgramArgs[K], parallel: () => Promise<Float32Array | null>): Promise<CeilingRow> {
  process.stderr.write(`ceiling: ${desc.model} ${desc.task}, batch ${desc.batch}\n`);
  const training = desc.task === 'train';
  s.one.train(training);
  s.dp.model.train(training);
  const ranges = shardRanges(desc.batch, 2);
  for (let i = 0; i < 2; i++) await children[i]!.ask({ type: 'job', program, args: split(args, ranges[i]!), training });
  const outs: Partial<Record<Contender, Float32Array | null>> = {};
  const own: [number[], number[]] = [[], []];
  const calls: Record<Contender, () => Promise<void>> = {
    one: async () => { outs.one = (await runProgram(s.one, program, args)).out ?? null; },
    parallel: async () => { outs.parallel = await parallel(); },
    pair: async () => {
      const [a, b] = await Promise.all(children.map((c) => c.run()));
      own[0].push(a!.ms);
      own[1].push(b!.ms);
      outs.pair = a!.out && b!.out ? Float32Array.from([...a!.out, ...b!.out]) : null;
    },
    half: async () => { await children[0]!.run(); },
  };
  const names = Object.keys(calls) as Contender[];
  const plan = ctx.quick ? PLANS.quick : training || desc.batch > 16 ? PLANS.long : PLANS.short;
  const { timings } = await sideBySide(names.map((c) => calls[c]), plan);
  ctx.peak.sample(1);
  const med = Object.fromEntries(names.map((c, i) => [c, sig(timings[i]!.medianMs, 4)])) as Record<Contender, number>;
  const kept = timings[0]!.samplesMs.length;
  let sustained: CeilingRow['sustained'] = null;
  if (!ctx.quick) {
    const [one, par, pair] = (await inBlocks([calls.one, calls.parallel, calls.pair], SUSTAINED)).map((v) => sig(median(v), 4)) as [number, number, number];
    sustained = { medianMs: { one, parallel: par, pair }, samples: SUSTAINED.rounds * (SUSTAINED.block - 1),
      parallelOverOne: sig(one / par, 3), pairOverOne: sig(one / pair, 3), parallelOverPair: sig(pair / par, 3) };
  }
  return {
    ...desc, medianMs: med,
    samplesMs: Object.fromEntries(names.map((c, i) => [c, timings[i]!.samplesMs.map((v) => sig(v, 4))])) as Record<Contender, number[]>,
    // The cold and warm-up calls are not in the medians: keep the same last calls of each process.
    pairOwnMs: [own[0].slice(-kept).map((v) => sig(v, 4)), own[1].slice(-kept).map((v) => sig(v, 4))],
    parallelOverOne: sig(med.one / med.parallel, 3), pairOverOne: sig(med.one / med.pair, 3), halfOverOne: sig(med.one / med.half, 3),
    pairOverHalf: sig(med.pair / med.half, 3), parallelOverPair: sig(med.pair / med.parallel, 3), sustained,
    identical: outs.one ? same(outs.one, outs.pair!) && same(outs.one, outs.parallel!) : null,
  };
}

async function flowRows(ctx: SuiteContext, children: Child[]): Promise<CeilingRow[]> {
  const s = await setup((engine) => loadModel(CEILING_MODELS.flow, { engine }), children, 'flow');
  const shape = s.one.config.model.inputShape, rows: CeilingRow[] = [];
  for (const n of ctx.quick ? [2] : [16, 32]) {
    const x: HostTensor = { data: pixels(n, shape, 1), shape: [n, ...shape] };
    rows.push(await row(ctx, children, s, { model: 'flow', task: 'forward', batch: n }, 'flow.score', { x, labels: null, range: 'pixels', score: 'logProb' },
      (a, r) => ({ ...a, x: half(a.x, r) }), () => s.dp.logProb(x.data, x.shape)));
    await s.one.prepare();
    const { z, labels } = s.one.drawLatents(n, { seed: 3 });
    const latents: HostTensor[] = [];
    for (const t of z) latents.push({ shape: [...t.shape], data: await readAndFree(t) });
    rows.push(await row(ctx, children, s, { model: 'flow', task: 'sample', batch: n }, 'flow.decode', { z: latents, labels, output: 'pixels' },
      (a, r) => ({ ...a, z: a.z.map((l) => half(l, r)), labels: cut(a.labels, r) }), () => s.dp.sample(n, { seed: 3 })));
    // Unlabelled, the 10-class flow's batch-32 gradients need more than wasm32's 2 GiB on one engine.
    if (n > 16) continue;
    rows.push(await row(ctx, children, s, { model: 'flow', task: 'train', batch: n }, 'flow.grads', { x, labels: null, scale: 1 / n },
      (a, r) => ({ ...a, x: half(a.x, r) }), async () => { for (const g of (await s.dp.flowGradients(x.data, x.shape)).grads) g.dispose(); return null; }));
  }
  await teardown(s);
  return rows;
}

async function unetRows(ctx: SuiteContext, children: Child[]): Promise<CeilingRow[]> {
  let schedule: NoiseSchedule | null = null;
  const s = await setup(async (engine): Promise<UNet> => {
    const d = loadDiffusionModel(CEILING_MODELS.unet, { engine });
    schedule = d.schedule;
    return d.unet;
  }, children, 'unet');
  const c = s.one.config, per = c.inChannels * c.imageSize * c.imageSize, rows: CeilingRow[] = [];
  for (const n of ctx.quick ? [2] : [32]) {
    const rng = new Rng(n), dims = [n, c.inChannels, c.imageSize, c.imageSize];
    const x0: HostTensor = { data: Float32Array.from({ length: n * per }, () => rng.uniform() * 2 - 1), shape: dims };
    const noise: HostTensor = { data: Float32Array.from({ length: n * per }, () => rng.normal()), shape: dims };
    const t = Array.from({ length: n }, () => rng.below(schedule!.steps));
    const labels = c.classes > 0 ? Array.from({ length: n }, () => rng.below(c.classes + 1)) : null;
    rows.push(await row(ctx, children, s, { model: 'unet', task: 'forward', batch: n }, 'unet.forward', { x: noise, t, labels, cond: null },
      (a, r) => ({ ...a, x: half(a.x, r), t: a.t.slice(...r), labels: cut(a.labels, r) }),
      () => s.dp.denoise(noise.data, dims, t, labels ? { labels } : {})));
    const alphaBar = t.map((ti) => schedule!.alphaBars[ti]!);
    rows.push(await row(ctx, children, s, { model: 'unet', task: 'train', batch: n }, 'unet.grads',
      { x0, noise, t, alphaBar, labels, cond: null, prediction: 'epsilon', scale: 1 / x0.data.length },
      (a, r) => ({ ...a, x0: half(a.x0, r), noise: half(a.noise, r), t: a.t.slice(...r), alphaBar: a.alphaBar.slice(...r), labels: cut(a.labels, r) }),
      async () => {
        const g = await s.dp.diffusionGradients({ x0: x0.data, shape: dims, t, noise: noise.data, ...(labels ? { labels } : {}) }, schedule!);
        for (const t of g.grads) t.dispose();
        return null;
      }));
  }
  await teardown(s);
  return rows;
}

function ceilingTable(rows: CeilingRow[]): Table {
  return {
    title: 'What two cores give independent work: warm median ms, one thread vs two processes (half the batch each, at once) vs DataParallel on 2 threads',
    header: ['model', 'task', 'batch', '1 thread', 'data-parallel', '2 processes', '1 process, half', 'data-parallel ÷ 1', '2 processes ÷ 1',
      'half ÷ 1', 'slowdown beside the other', 'data-parallel ÷ 2 processes', 'sustained: data-parallel / 2 processes ÷ 1', 'reps', 'bit-identical'],
    rows: rows.map((r) => [r.model, r.task, r.batch, r.medianMs.one, r.medianMs.parallel, r.medianMs.pair, r.medianMs.half,
      r.parallelOverOne, r.pairOverOne, r.halfOverOne, r.pairOverHalf, r.parallelOverPair,
      r.sustained ? `${r.sustained.parallelOverOne} / ${r.sustained.pairOverOne}` : '–', r.samplesMs.one.length, r.identical === null ? '–' : String(r.identical)]),
    notes: [
      '2 processes: two separate node processes (bench/ceiling-child.ts), each with a one-thread engine, run the shard program of src/parallel/programs.ts on half the batch, started together; their time is the wall time until both have answered',
      '2 processes ÷ 1 is the most any split of this batch over two threads could give on this machine now; data-parallel ÷ 2 processes is how much of it DataParallel gets',
      'train rows time the gradients only (no optimizer step), in every contender',
      `sustained: one thread, data-parallel and the two processes each called in blocks of ${SUSTAINED.block}, the first call of each block dropped (every contender warm)`,
    ],
  };
}
