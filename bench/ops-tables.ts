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

/** A contender's result on one row of the image-model ops: GFLOP/s for the compute-bound ops, GB/s for all. */
export interface OpCell extends Timing {
  batch: number;
  threads: number;
  gflops: number | null;
  pctPeak: number | null;
  /** Minimum bytes moved (float32 inputs read once, output written once) ÷ time. */
  gbps: number;
  relDiffVsTfjs: number | null;
}

export type OpRow = Record<string, unknown> & { op: string; name: string; flops: number | null; bytes: number; results: Record<string, OpCell> };

export function imageOpTables(rows: OpRow[], contenders: Array<{ id: string; label: string; threads: number }>,
  { peak, batch, notes }: { peak: number; batch: number; notes: string[] }): Table[] {
  const N = contenders.find((c) => c.id === 'wasmN')?.threads ?? 1;
  const has = (id: string) => contenders.some((c) => c.id === id);
  const rate = (c: OpCell | undefined, flops: number | null) => (!c ? null : flops === null ? `${cellStr(c.gbps)} GB/s` : `${cellStr(c.gflops!)} GF (${c.pctPeak}%)`);
  const warm: Table = {
    title: `image-model ops, batch ${batch}, warm median (ms) · rate (GFLOP/s and % of ${peak} GFLOP/s per core × threads, or GB/s for memory-bound ops) · ×tfjs = tfjs ms / inflow ms`,
    header: ['op', 'tfjs ms', '1t ms', '1t rate', '×tfjs', `${N}t ms`, `${N}t rate`, '×tfjs', ...(has('ort1') ? ['ort1 ms', '1t÷ort1'] : []), ...(has('ortN') ? [`ort${N} ms`, `${N}t÷ort${N}`] : [])],
    rows: rows.map((r) => {
      const t = r.results.tfjs!, a = r.results.wasm1!, b = r.results.wasmN, o1 = r.results.ort1, oN = r.results.ortN;
      return [
        r.name, t.medianMs, a.medianMs, rate(a, r.flops), t.medianMs / a.medianMs, b?.medianMs ?? null, rate(b, r.flops), b ? t.medianMs / b.medianMs : null,
        ...(has('ort1') ? [o1?.medianMs ?? null, o1 ? o1.medianMs / a.medianMs : null] : []),
        ...(has('ortN') ? [oN?.medianMs ?? null, oN && b ? oN.medianMs / b.medianMs : null] : []),
      ];
    }),
    notes: [
      'targets: ≥ 1.0× tfjs on 1 thread (as the conv2d / matmul kernels); onnxruntime columns are reported, not targets (native code with AVX2/AVX-512, beyond the wasm f32x4 peak)',
      ...contenders.map((c) => `${c.id}: ${c.label}`),
      ...[...new Set(rows.map((r) => `${r.op}: tfjs ${String(r.tfjsHow)}${r.onnxHow ? `; onnxruntime ${String(r.onnxHow)}` : ''}`))],
      ...notes,
    ],
  };
  const ids = contenders.map((c) => c.id);
  const cold: Table = {
    title: 'image-model ops: first call (ms) and agreement with tfjs (max |Δ| / max |y|)',
    header: ['op', ...ids.map((id) => `${id} cold`), ...ids.slice(1).map((id) => `Δ ${id}`), 'reps'],
    rows: rows.map((r) => [r.name, ...ids.map((id) => r.results[id]?.coldMs ?? null), ...ids.slice(1).map((id) => fmtDiff(r.results[id]?.relDiffVsTfjs ?? null)),
      String(r.results.tfjs!.samplesMs.length)]),
  };
  return [warm, cold];
}
