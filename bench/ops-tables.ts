import type { Contender } from './ops.js';
import type { Table } from './lib/report.js';
import type { Timing } from './lib/timing.js';

/** A contender's result on one row; pctPeak is against peak-per-core × its threads. */
export interface Cell extends Timing {
  batch: number;
  threads: number;
  gflops: number;
  pctPeak: number;
  relDiffVsTfjs: number | null;
}

export type Row = Record<string, unknown> & { name: string; flops: number; results: Record<string, Cell> };

export interface TableFacts {
  peak: number;
  batch: number;
  referenceNote: string;
  notes: string[];
}

export function kernelTables(rows: Row[], contenders: Contender[], { peak, batch, referenceNote, notes }: TableFacts): Table[] {
  const N = contenders.find((c) => c.id === 'wasmN')?.threads ?? 1;
  const get = (r: Row, id: string) => r.results[id];
  const warm: Table = {
    title: `conv2d / matmul, batch ${batch}, warm median (ms) · GFLOP/s · % of peak (${peak} GFLOP/s per core × threads) · ×tfjs = inflow GF/s / tfjs GF/s`,
    header: ['kernel', 'MFLOP', 'tfjs ms', 'GF/s', '%pk', '1t ms', 'GF/s', '%pk', '×tfjs', `${N}t ms`, 'GF/s', '%pk', '×tfjs', 'ref GF/s'],
    rows: rows.map((r) => {
      const t = get(r, 'tfjs')!, a = get(r, 'wasm1')!, b = get(r, 'wasmN'), ref = get(r, 'reference');
      return [
        r.name, r.flops / 1e6, t.medianMs, t.gflops, t.pctPeak, a.medianMs, a.gflops, a.pctPeak, a.gflops / t.gflops,
        b?.medianMs ?? null, b?.gflops ?? null, b?.pctPeak ?? null, b ? b.gflops / t.gflops : null,
        ref ? `${cellStr(ref.gflops)}${ref.batch === batch ? '' : '*'}` : null,
      ];
    }),
    notes: [
      `targets: ≥ 1.0× tfjs on 1 thread, ≥ 1.7× with ${N} threads (reported, not asserted)`,
      `tfjs: ${contenders[0]!.label}`,
      `reference: ${referenceNote}`,
      ...notes,
    ],
  };
  const cold: Table = {
    title: 'conv2d / matmul: first call (ms; includes compile, tier-up, weight packing) and agreement with tfjs (max |Δ| / max |y|)',
    header: ['kernel', 'tfjs cold', '1t cold', `${N}t cold`, 'ref cold', 'Δ 1t', `Δ ${N}t`, 'Δ ref', 'reps'],
    rows: rows.map((r) => {
      const t = get(r, 'tfjs')!, a = get(r, 'wasm1')!, b = get(r, 'wasmN'), ref = get(r, 'reference');
      return [
        r.name, t.coldMs, a.coldMs, b?.coldMs ?? null, ref ? `${cellStr(ref.coldMs)}${ref.batch === batch ? "" : "*"}` : null,
        fmtDiff(a.relDiffVsTfjs), fmtDiff(b?.relDiffVsTfjs ?? null), fmtDiff(ref?.relDiffVsTfjs ?? null), String(t.samplesMs.length),
      ];
    }),
  };
  return [warm, cold];
}

const cellStr = (x: number): string => x.toPrecision(2);
const fmtDiff = (d: number | null): string | null => (d === null ? null : d.toExponential(1));
