// The ceiling suite's part of the README "Performance" section (bench/ceiling.ts): the same shards
// in two independent processes, the most a split over two threads could give on the machine.
import { n, table } from './markdown.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Over the ceiling run's rows: the lowest two-process ceiling, and data-parallel's share of the ceiling (lowest and median). */
export function ceilingHeadline(ceiling: J | null): { worstPair: number; worstPairRow: string; worstSustainedPair: number | null; worstSustainedRow: string;
  worstShare: number; medianShare: number } | null {
  const rows = ((ceiling?.rows ?? []) as J[]).filter((r) => typeof r.pairOverOne === 'number' && typeof r.parallelOverPair === 'number');
  if (!rows.length) return null;
  const name = (r: J) => `${r.model} ${r.task} batch ${r.batch}`;
  const worst = rows.reduce((a, r) => (r.pairOverOne < a.pairOverOne ? r : a));
  const sus = rows.filter((r) => r.sustained);
  const worstSus = sus.length ? sus.reduce((a, r) => (r.sustained.pairOverOne < a.sustained.pairOverOne ? r : a)) : null;
  const shares = rows.map((r) => r.parallelOverPair as number).sort((a, b) => a - b);
  const mid = shares.length >> 1;
  return {
    worstPair: worst.pairOverOne, worstPairRow: name(worst),
    worstSustainedPair: worstSus?.sustained.pairOverOne ?? null, worstSustainedRow: worstSus ? name(worstSus) : '',
    worstShare: shares[0]!, medianShare: shares.length % 2 ? shares[mid]! : (shares[mid - 1]! + shares[mid]!) / 2,
  };
}

export function ceilingSection(ceiling: J | null): string[] {
  const rows = (ceiling?.rows ?? []) as J[];
  if (!rows.length) return [];
  return [
    '### The machine\'s ceiling: the same shards in two independent processes (wasm, warm median ms)', '',
    table(['model', 'task', 'batch', '1 thread', 'data-parallel', '2 processes', '1 process, half', 'data-parallel ÷ 1', '2 processes ÷ 1', 'half ÷ 1', 'data-parallel ÷ 2 processes',
      'sustained: data-parallel ÷ 1 / 2 processes ÷ 1'],
      rows.map((r) => [r.model === 'flow' ? 'FInC flow' : 'UNet', r.task, r.batch, n(r.medianMs.one), n(r.medianMs.parallel), n(r.medianMs.pair), n(r.medianMs.half),
        `${n(r.parallelOverOne)}×`, `**${n(r.pairOverOne)}×**`, `${n(r.halfOverOne)}×`, `${n(r.parallelOverPair)}×`,
        r.sustained ? `${n(r.sustained.parallelOverOne)}× / ${n(r.sustained.pairOverOne)}×` : '–'])), '',
    'Two separate node processes, each with a one-thread engine, run the shard program of src/parallel/programs.ts on half the batch, started together: ' +
      'no shared memory and no messages while they work, so *2 processes ÷ 1* is the most any split of that batch over two threads gives on this machine at that hour. ' +
      '*half ÷ 1*: one of them alone, what the split would give if the halves did not slow each other. Contenders alternate call by call in one run; train rows time the gradients without the optimizer step. ' +
      '*sustained*: one thread, data-parallel and the two processes each called in blocks, the first call of each block dropped, so that no contender starts on a core that sat idle. ' +
      `Load average after the suite ${n(ceiling!.loadAvgAfter?.[0], 2)} on ${ceiling!.machine?.cores ?? '?'} cores (\`npm run bench -- ceiling\`, docs/thread-scaling.md §5).`, '',
  ];
}
