// Sampling time vs batch (the other axis of the papers' Fig. F4): FInC wavefront vs its raster
// (CInC-style) inverse vs Emerging vs Inverse-Flow, one small model per kind, same size.
import { models, type Engine } from '../../src/index.js';
import type { FlowModel } from '../../src/models/index.js';
import { sig } from '../lib/compare.js';
import { sideBySide, type TimingPlan } from '../lib/timing.js';

export const BATCH_ARCH = { inputShape: [3, 16, 16] as [number, number, number], levels: 2, steps: 4, width: 64 };
const VARIANTS = [
  { id: 'finc', build: models.fincFlow, algorithm: 'wavefront' },
  { id: 'raster', build: models.fincFlow, algorithm: 'raster' },
  { id: 'emerging', build: models.emerging, algorithm: 'raster' },
  { id: 'inverse', build: models.inverseFlow, algorithm: 'wavefront' },
] as const;

export interface BatchRow { batch: number; medianMs: Record<string, number>; coldMs: Record<string, number>; overFinc: Record<string, number> }

export async function batchBench(engine: Engine, batches: number[], plan: TimingPlan, onRow: () => void): Promise<BatchRow[]> {
  const built = new Map<string, FlowModel>();
  const byKind = new Map<unknown, FlowModel>();
  for (const v of VARIANTS) {
    // raster reuses FInC's weights: the schedule is then the only difference.
    let m = byKind.get(v.build);
    if (!m) { m = v.build(BATCH_ARCH, { engine, seed: 0 }); m.markInitialized(); byKind.set(v.build, m); }
    built.set(v.id, m);
  }
  const rows: BatchRow[] = [];
  for (const n of batches) {
    process.stderr.write(`perf: sampling vs batch, ${n}\n`);
    const calls = VARIANTS.map((v) => async () => {
      const m = built.get(v.id)!;
      m.setSolveAlgorithm(v.algorithm);
      const s = await m.sample(n, { seed: 1 });
      await s.data();
      return s;
    });
    const { timings, coldResults } = await sideBySide(calls, plan);
    for (const r of coldResults) (r as { dispose(): void }).dispose();
    const med = Object.fromEntries(VARIANTS.map((v, i) => [v.id, timings[i]!.medianMs]));
    rows.push({ batch: n, medianMs: med, coldMs: Object.fromEntries(VARIANTS.map((v, i) => [v.id, timings[i]!.coldMs])),
      overFinc: Object.fromEntries(VARIANTS.map((v) => [v.id, sig(med[v.id]! / med.finc!, 3)])) });
    onRow();
  }
  for (const m of byKind.values()) m.dispose();
  return rows;
}
