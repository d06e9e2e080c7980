// The detect suite's tables (bench/detect.ts measures; this formats and takes ratios).
import type { Engine } from '../src/index.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Timing } from './lib/timing.js';

/** One contender: tfjs has no engine; threads 0 is a GPU. */
export interface Slot { id: string; label: string; threads: number; engine?: Engine }
type Timed = Slot & { timing: Timing };

export interface ForwardRow { size: number; flops: number; contenders: Array<Timed & { relDiff: number | null }> }
export interface DetectRow {
  photo: string; width: number; height: number; faceApiFaces: number;
  contenders: Array<Timed & { faces: number; same?: boolean; minIou?: number | null }>;
}
export interface AnonymizeRow { label: string; mode: string; contenders: Array<Timed & { faces: number | null }> }

const ratio = (rows: Timed[], c: Timed, id: string): number | null => {
  const other = rows.find((r) => r.id === id);
  return other && other !== c ? sig(other.timing.medianMs / c.timing.medianMs, 3) : null;
};
const reps = (c: Timed) => String(c.timing.samplesMs.length);

export function forwardTable(rows: ForwardRow[], peak: number): Table {
  return {
    title: `TinyFaceDetector forward (face-api's weights): upload of the normalised input, the network, the 25 × S/32 × S/32 grid read back; warm median ms; ÷ tfjs = face-api ms / this ms (> 1: inflow faster); Δ = grid agreement`,
    header: ['input', 'contender', 'cold ms', 'warm ms', 'min ms', 'GF/s', '%pk', '÷ tfjs', '÷ wasm 1t', 'Δ', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => {
      const gf = r.flops / c.timing.medianMs / 1e6;
      return [`${r.size}×${r.size}`, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs, sig(gf, 3),
        c.threads ? sig((100 * gf) / (peak * c.threads), 3) : null, ratio(r.contenders, c, 'tfjs'), ratio(r.contenders, c, 'wasm1'),
        c.relDiff === null ? null : c.relDiff.toExponential(1), reps(c)];
    })),
    notes: [
      ...rows.map((r) => `${r.size}×${r.size}: ${(r.flops / 1e9).toFixed(3)} GFLOP per forward (conv 3×3, five depthwise-separable blocks, conv 1×1)`),
      "face-api's time includes its own normalisation of the int32 [S, S, 3] input (a few tfjs ops); inflow's input is letterboxed on the host beforehand (not timed here; it is in the detection table)",
      'Δ: max |Δ| / max |y| of the grid against face-api (webgpu: against inflow wasm 1 thread at its size); %pk against the wasm f32x4 peak per core × threads',
    ],
  };
}

export function detectTable(rows: DetectRow[], inputSize: number): Table {
  return {
    title: `whole detection of a demo photo at inputSize ${inputSize}: inflow detectFaces (letterbox on the host, network, box decoding, NMS) vs face-api detectAllFaces(TinyFaceDetectorOptions({ inputSize: ${inputSize} })); warm median ms`,
    header: ['photo', 'contender', 'cold ms', 'warm ms', 'min ms', '÷ tfjs', 'faces', 'same count as face-api', 'least IoU', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => [`${r.photo} (${r.width}×${r.height})`, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs,
      ratio(r.contenders, c, 'tfjs'), c.faces, c.same === undefined ? null : c.same ? 'yes' : `NO (${r.faceApiFaces})`,
      c.minIou === undefined || c.minIou === null ? null : c.minIou.toFixed(5), reps(c)])),
    notes: ['both sides start from the decoded photo in their own memory (a Uint8Array for inflow, an int32 tfjs tensor for face-api), made before the clock starts',
      'least IoU: over inflow\'s faces, the IoU with the best-matching face-api box'],
  };
}

export function anonymizeTable(rows: AnonymizeRow[], hd: { width: number; height: number }, faceApiFaces: number): Table {
  return {
    title: `anonymize() of a ${hd.width}×${hd.height} photo (demo sample1.jpg resized) end to end, detector loaded beforehand: detection at 416, mask, fill; warm median ms`,
    header: ['mode', 'contender', 'cold ms', 'warm ms', 'min ms', '÷ wasm 1t', 'faces', 'same count as face-api', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => [r.label, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs, ratio(r.contenders, c, 'wasm1'),
      c.faces, c.faces === null ? null : c.faces === faceApiFaces ? 'yes' : `NO (${faceApiFaces})`, reps(c)])),
    notes: [`face-api's detectAllFaces finds ${faceApiFaces} faces on this photo`,
      'the fills run on the host (docs/anonymize.md §2), so the threads only speed up the detector; "JPEG bytes → JPEG bytes" adds sharp\'s decode and a quality-92 4:4:4 encode, as inflow anonymize writes a .jpg'],
  };
}

export interface PlateForwardRow { size: number; batch: number; flops: number; contenders: Array<Timed & { relDiff: number | null }> }
export interface PlateTiledRow { width: number; height: number; tiles: number; pasted: number; contenders: Array<Timed & { boxes: number; found: number }> }
export interface PlateAnonymizeRow { mode: string; contenders: Array<Timed & { faces: number; plates: number }> }

export function plateForwardTable(rows: PlateForwardRow[], peak: number): Table {
  return {
    title: 'licence-plate detector forward (models/plate-detector.safetensors, docs/plates.md §4): upload, the network, the grid read back; warm median ms',
    header: ['input', 'batch', 'contender', 'cold ms', 'warm ms', 'min ms', 'inputs/s', 'GF/s', '%pk', '÷ wasm 1t', 'Δ', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => {
      const gf = r.flops / c.timing.medianMs / 1e6;
      return [`${r.size}×${r.size}`, r.batch, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs, sig((r.batch * 1000) / c.timing.medianMs, 4), sig(gf, 3),
        c.threads ? sig((100 * gf) / (peak * c.threads), 3) : null, ratio(r.contenders, c, 'wasm1'), c.relDiff === null ? null : c.relDiff.toExponential(1), reps(c)];
    })),
    notes: [
      ...[...new Set(rows.map((r) => `${r.size}×${r.size}: ${(r.flops / r.batch / 1e6).toFixed(1)} MFLOP per input (conv 3×3, depthwise-separable blocks, 1×1 head)`))],
      'inflow\'s own model, trained on synthetic plates: no peer runs it; batch 16 is how many tiles detectPlatesTiled sends per call; Δ against wasm 1 thread on the same seeded input',
    ],
  };
}

export function plateTiledTable(rows: PlateTiledRow[]): Table {
  return {
    title: 'detectPlatesTiled of a 1920×1080 photo (demo sample1.jpg resized, 14 held-out plate scenes pasted in, as scripts/plates-anonymize.ts recall): the letterboxed photo plus the tile pyramid; warm median ms',
    header: ['photo', 'contender', 'cold ms', 'warm ms', 'min ms', '÷ wasm 1t', 'tiles', 'ms per tile', 'boxes', 'plates found (IoU ≥ 0.5)', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => [`${r.width}×${r.height}`, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs, ratio(r.contenders, c, 'wasm1'),
      r.tiles, sig(c.timing.medianMs / (r.tiles + 1), 3), c.boxes, `${c.found} / ${r.pasted}`, reps(c)])),
    notes: ['tiles: levels of square tiles with half-tile overlap (docs/plates.md §10), area-averaged to 128×128 on the host, 16 per network call; ms per tile counts the whole photo as one more'],
  };
}

export function plateAnonymizeTable(rows: PlateAnonymizeRow[], hd: { width: number; height: number }): Table {
  return {
    title: `anonymize() of the ${hd.width}×${hd.height} photo with plates (faces: true, plates: true, as inflow anonymize --plates), detectors loaded beforehand: face detection at 416, tiled plate detection, masks, fill; warm median ms`,
    header: ['mode', 'contender', 'cold ms', 'warm ms', 'min ms', '÷ wasm 1t', 'faces', 'plates', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((c) => [r.mode, c.label, c.timing.coldMs, c.timing.medianMs, c.timing.minMs, ratio(r.contenders, c, 'wasm1'), c.faces, c.plates, reps(c)])),
    notes: ['the tiled plate search is most of the time; the fills run on the host (docs/anonymize.md §2)'],
  };
}
