// The scaling suite's part of the README "Performance" section (bench/scaling.ts): whole models on 1
// thread vs all threads, through the threaded kernels and as data parallelism, and readback speed.
import { n, table } from './markdown.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Data-parallel ÷ 1 thread over the rows at batch ≥ 16 (the thread-scaling target's rows): the worst, alternating and sustained. */
export function scalingHeadline(scaling: J | null): { worst: number; rows: string; worstSustained: number | null; rowsSustained: string } | null {
  const rows = ((scaling?.model?.rows ?? []) as J[]).filter((r) => r.batch >= 16 && typeof r.parallelOverOne === 'number');
  if (!rows.length) return null;
  const name = (r: J) => `${r.model} ${r.task} batch ${r.batch}`;
  const worst = rows.reduce((a, r) => (r.parallelOverOne < a.parallelOverOne ? r : a));
  const sus = rows.filter((r) => r.sustained);
  const worstSus = sus.length ? sus.reduce((a, r) => (r.sustained.parallelOverOne < a.sustained.parallelOverOne ? r : a)) : null;
  return { worst: worst.parallelOverOne, rows: name(worst), worstSustained: worstSus?.sustained.parallelOverOne ?? null, rowsSustained: worstSus ? name(worstSus) : '' };
}

export function scalingSection(scaling: J | null): string[] {
  const rows = (scaling?.model?.rows ?? []) as J[];
  if (!rows.length) return [];
  const all = scaling!.threads?.all ?? '?';
  const transfer = (scaling!.transfer ?? []) as J[];
  return [
    `### Whole models on ${all} threads: the threaded kernels vs data parallelism (wasm, warm median ms)`, '',
    table(['model', 'task', 'batch', '1 thread', `${all} threads, kernels`, `${all} threads, data-parallel`, 'kernels ÷ 1', 'data-parallel ÷ 1', 'sustained ÷ 1', 'bit-identical'],
      rows.map((r) => [r.model === 'flow' ? 'FInC flow' : 'UNet', r.task, r.batch, n(r.medianMs.one), n(r.medianMs.kernels), n(r.medianMs.parallel),
        `${n(r.kernelsOverOne)}×`, `**${n(r.parallelOverOne)}×**`, r.sustained ? `${n(r.sustained.parallelOverOne)}×` : '–', r.identical ? 'yes' : 'no'])), '',
    `The bundled flow (models/finc-mnist.safetensors, 10 classes, unlabelled scores marginalise over them) and diffusion UNet (models/diffusion-mnist.safetensors). ` +
      '*kernels*: one engine whose every op splits its work over the threads; *data-parallel*: `DataParallel` (src/parallel), the batch cut into one shard per thread, each run whole by a replica on a one-thread engine, gradients summed in shard order. ' +
      '*sustained*: 1 thread and data-parallel each called in blocks of 4, the first call of each block dropped — the rate of a loop that keeps calling (an idle core of this virtual machine comes back cold). ' +
      'Bit-identical: forward and sampling outputs of both equal the 1-thread output; training leaves the same weights on all threads as the same shards on one. ' +
      `Readback of 6.4 MB into a reused array (\`data(into)\`): ${transfer.map((t) => `${n(t.gbPerS?.dataInto)} GB/s on ${t.threads} thread${t.threads > 1 ? 's' : ''}`).join(', ')}. ` +
      `Load average after the suite ${n(scaling!.loadAvgAfter?.[0], 2)} on ${scaling!.machine?.cores ?? '?'} cores (docs/thread-scaling.md).`, '',
  ];
}
