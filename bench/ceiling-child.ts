// A process of the `ceiling` suite (bench/ceiling.ts): loads one bundled model on a one-thread wasm
// engine and runs a data-parallel shard program (src/parallel/programs.ts) on the arguments it was
// given, each time it is told to, reporting the program's own wall time and its output.
import { createEngine } from '../src/index.js';
import { loadModel } from '../src/io/model-file.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import type { Module } from '../src/nn/module.js';
import { runProgram, type ProgramArgs, type ProgramName } from '../src/parallel/programs.js';
import { CEILING_MODELS, type ChildReply, type ToChild } from './ceiling-protocol.js';

let model: Module | null = null;
let job: { program: ProgramName; args: ProgramArgs[ProgramName]; training: boolean } | null = null;

const reply = (m: ChildReply): void => { process.send!(m); };

process.on('message', (m: ToChild) => {
  void handle(m).catch((e: unknown) => reply({ type: 'error', error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! }));
});

async function handle(m: ToChild): Promise<void> {
  if (m.type === 'load') {
    model?.engine.dispose();
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    model = m.model === 'flow' ? await loadModel(CEILING_MODELS.flow, { engine }) : loadDiffusionModel(CEILING_MODELS.unet, { engine }).unet;
    return reply({ type: 'ok' });
  }
  if (m.type === 'job') {
    job = { program: m.program, args: m.args, training: m.training };
    return reply({ type: 'ok' });
  }
  if (m.type === 'run') {
    if (!model || !job) throw new Error('ceiling child: run before load and job');
    model.train(job.training);
    const r = await runProgram(model, job.program, job.args as never);
    return reply({ type: 'done', ms: r.ms!, out: r.out ?? null });
  }
  process.exit(0);
}
