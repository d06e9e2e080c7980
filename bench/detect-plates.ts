// The detect suite's licence-plate rows (docs/plates.md §4, §10; docs/anonymize.md §10): inflow's
// plate detector (no peer exists: it is inflow's own model) on wasm 1 / all threads
// 1. forward at its 128 × 128 input, one image and a batch of 16 (the tiled search's batch);
// 2. detectPlatesTiled on a 1920 × 1080 photo with held-out synthetic plate scenes pasted in
//    (the photo of scripts/plates-anonymize.ts recall), with the plates found at IoU ≥ 0.5;
// 3. anonymize() of that photo with plates: true (faces too, as `inflow anonymize --plates`) per classical mode.
import { anonymize, type FillMode } from '../src/anonymize/anonymize.js';
import { iou } from '../src/models/detect/box.js';
import type { RgbImage } from '../src/models/detect/image.js';
import type { TinyFaceDetector } from '../src/models/detect/tiny-face-detector.js';
import type { PlateDetectorConfig } from '../src/models/plates/config.js';
import { detectPlatesTiled, plateTileLevels, PLATE_TILE_DEFAULTS } from '../src/models/plates/detect-plates-tiled.js';
import { pasteScenes } from '../src/models/plates/pasted-scenes.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../src/models/plates/plate-file-node.js';
import type { PlateDetector } from '../src/models/plates/plate-detector.js';
import { uniform } from './lib/random.js';
import { relDiff, sig } from './lib/compare.js';
import { sideBySide, type Call, type TimingPlan } from './lib/timing.js';
import type { PlateAnonymizeRow, PlateForwardRow, PlateTiledRow, Slot } from './detect-tables.js';

/** As scripts/plates-anonymize.ts recall: 14 held-out scenes of 100–700 pixels (test split from scene 0), seed 0. */
const PASTE = { first: 0, count: 14, minSide: 100, maxSide: 700, seed: 0 } as const;
const BATCHES = [1, PLATE_TILE_DEFAULTS.batch];
const PLANS: Record<'forward' | 'tiled' | 'anonymize' | 'quick', TimingPlan> = {
  forward: { warmup: 2, reps: 15, minReps: 5, budgetMs: 8000 },
  /** A tiled search is 618 network inputs on a 1920 × 1080 photo: seconds per call. */
  tiled: { warmup: 0, reps: 3, minReps: 2, budgetMs: 30000 },
  anonymize: { warmup: 0, reps: 2, minReps: 1, budgetMs: 20000 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};

/**
 * Multiply-adds × 2 of the plate detector at its input (docs/plates.md §4): conv 3×3 'same', the
 * depthwise-separable blocks (the first log₂(stride) layers each followed by a 2×2 pool), the 1×1 head.
 */
export function plateFlops(c: PlateDetectorConfig): number {
  const w = c.widths, pools = Math.log2(c.stride);
  let side = c.inputSize, macs = side * side * 27 * w[0]!;
  if (pools > 0) side /= 2;
  for (let i = 1; i < w.length; i++) {
    macs += side * side * w[i - 1]! * (9 + w[i]!);
    if (i < pools) side /= 2;
  }
  macs += side * side * w.at(-1)! * c.anchors.length * 5;
  return 2 * macs;
}

export interface PlateSection { forward: PlateForwardRow[]; tiled: PlateTiledRow[]; anonymize: PlateAnonymizeRow[]; photo: { pasted: number; tiles: number }; notes: string[] }

/** `inflow` holds the wasm contenders (wasm1 first); `faces` their face detectors; `hd` the 1920 × 1080 photo the face rows use. */
export async function plateRows(inflow: Slot[], faces: Map<string, TinyFaceDetector>, hd: RgbImage, modes: FillMode[], quick: boolean): Promise<PlateSection> {
  const dets = new Map<string, PlateDetector>(inflow.map((s) => [s.id, loadPlateDetector(BUNDLED_PLATE_DETECTOR, { engine: s.engine! })]));
  const cfg = dets.get(inflow[0]!.id)!.config, S = cfg.inputSize;
  const notes: string[] = [];

  // ---- 1. forward at the input size
  const forward: PlateForwardRow[] = [];
  for (const n of quick ? [BATCHES.at(-1)!] : BATCHES) {
    process.stderr.write(`detect: plate detector forward at ${S}×${S}, batch ${n}\n`);
    const input = uniform(n * 3 * S * S, 11);
    const xs = inflow.map((s) => s.engine!.tensor(input, [n, 3, S, S]).keep());
    const calls: Call[] = inflow.map((s, i) => async () => {
      const y = s.engine!.noGrad(() => dets.get(s.id)!.forward(xs[i]!));
      try { return await y.data(); } finally { y.dispose(); }
    });
    const { timings, coldResults } = await sideBySide(calls, quick ? PLANS.quick : PLANS.forward);
    xs.forEach((x) => x.dispose());
    forward.push({ size: S, batch: n, flops: n * plateFlops(cfg),
      contenders: inflow.map((s, i) => ({ ...s, timing: timings[i]!, relDiff: i === 0 ? null : sig(relDiff(coldResults[i] as Float32Array, coldResults[0] as Float32Array)) })) });
  }

  // ---- 2. tiled detection of a 1920 × 1080 photo with plates
  const pasted = pasteScenes({ ...hd, channels: 3 }, PASTE);
  const tiles = plateTileLevels(pasted.image.width, pasted.image.height, S, PLATE_TILE_DEFAULTS.maxTiles).reduce((t, l) => t + l.xs.length * l.ys.length, 0);
  const found = (boxes: Array<{ box: { x: number; y: number; width: number; height: number } }>) =>
    pasted.plates.filter((p) => boxes.some((d) => iou(d.box, p.box) >= 0.5)).length;
  process.stderr.write(`detect: tiled plate detection ${pasted.image.width}×${pasted.image.height} (${tiles} tiles + the whole photo)\n`);
  const tiledRun = await sideBySide(inflow.map((s) => () => detectPlatesTiled(dets.get(s.id)!, pasted.image)), quick ? PLANS.quick : PLANS.tiled);
  const tiled: PlateTiledRow = { width: pasted.image.width, height: pasted.image.height, tiles, pasted: pasted.plates.length,
    contenders: inflow.map((s, i) => {
      const r = tiledRun.coldResults[i] as Parameters<typeof found>[0];
      return { ...s, timing: tiledRun.timings[i]!, boxes: r.length, found: found(r) };
    }) };

  // ---- 3. anonymize() with plates per classical mode
  const anon: PlateAnonymizeRow[] = [];
  for (const mode of quick ? (['solid'] as FillMode[]) : modes) {
    process.stderr.write(`detect: anonymize ${pasted.image.width}×${pasted.image.height} with plates, ${mode}\n`);
    const calls: Call[] = inflow.map((s) => () => anonymize(s.engine!, pasted.image, { mode, detector: faces.get(s.id)!, plates: true, plateDetector: dets.get(s.id)! }));
    const { timings, coldResults } = await sideBySide(calls, quick ? PLANS.quick : PLANS.anonymize);
    anon.push({ mode, contenders: inflow.map((s, i) => {
      const r = coldResults[i] as { boxes: unknown[]; plates: unknown[] };
      return { ...s, timing: timings[i]!, faces: r.boxes.length, plates: r.plates.length };
    }) });
  }
  if (quick) notes.push('quick: plates forward at batch 16 only; anonymize with plates in solid mode only');
  for (const d of dets.values()) d.dispose();
  return { forward, tiled: [tiled], anonymize: anon, photo: { pasted: pasted.plates.length, tiles }, notes };
}
