// Licence plates through anonymize() (docs/plates.md §10, docs/anonymize.md §4.2):
//   nice -n 19 node --import tsx scripts/plates-anonymize.ts recall [--photos 6 --scenes 14 --tiles 0,64,256,1024 --thresholds 0.3,0.5]
//       held-out scenes pasted into face-api's demo photos at 1920 × 1080: plate recall (IoU ≥ 0.5) by plate width,
//       false boxes and time per photo, for each tile budget and score threshold
//   nice -n 19 node --import tsx scripts/plates-anonymize.ts deid [--count 100 --size 256 --modes blur,pixelate,solid,telea,inpaint --model models/diffusion-mnist.safetensors]
//       held-out scenes through anonymize({ faces: false, plates: true, mode }): of the plates the reader reads right
//       before, how many it reads differently after; plates detected; pixels changed outside the mask (must be 0)
//   … [--big] with deid: the pasted 1920 × 1080 photos instead of single scenes
//   nice -n 19 node --import tsx scripts/plates-anonymize.ts large [--width 6000 --height 4000 --modes blur,pixelate,solid,telea]
//       a large synthetic photo (held-out scenes of 300–1500 px on a smooth background) through anonymize() with faces
//       and plates: time, plates found, and the process's peak resident memory before and after each mode
// Writes JSON with --out. Backend: --backend wasm --threads 1 (defaults).
import { join, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { anonymize, FILL_MODES, type FillMode } from '../src/anonymize/anonymize.js';
import { plateScenes } from '../src/data/plates/dataset.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { loadClassifier } from '../src/io/classifier-file.js';
import { iou } from '../src/models/detect/box.js';
import { faceApiModelDir } from '../src/models/detect/face-api-weights.js';
import type { RgbImage } from '../src/models/detect/image.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import { detectPlatesTiled, plateTileLevels } from '../src/models/plates/detect-plates-tiled.js';
import { pasteScenes, bytesToBatch, type PastedScenes } from '../src/models/plates/pasted-scenes.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../src/models/plates/plate-file-node.js';
import { readingChange } from '../src/models/plates/reading-change.js';

const [command, ...rest] = process.argv.slice(2);
const { values: a } = parseArgs({
  args: rest,
  options: {
    photos: { type: 'string', default: '6' }, scenes: { type: 'string', default: '14' }, tiles: { type: 'string', default: '0,64,256,1024' },
    thresholds: { type: 'string', default: '0.3,0.5' }, count: { type: 'string', default: '100' }, size: { type: 'string', default: '256' },
    modes: { type: 'string' }, model: { type: 'string' }, steps: { type: 'string', default: '20' }, big: { type: 'boolean', default: false },
    out: { type: 'string' }, backend: { type: 'string', default: 'wasm' }, threads: { type: 'string', default: '1' },
    reader: { type: 'string', default: 'models/plate-reader.safetensors' }, width: { type: 'string', default: '6000' }, height: { type: 'string', default: '4000' }, detector: { type: 'string', default: BUNDLED_PLATE_DETECTOR },
  },
});
const engine = await createEngine({ backend: a.backend as 'wasm', threads: Number(a.threads) });
const detector = loadPlateDetector(a.detector!, { engine });
const W = 1920, H = 1080;

/** face-api's demo photo i as a 1920 × 1080 background (cropped to fill), with `scenes` held-out scenes pasted in. */
async function bigPhoto(i: number): Promise<PastedScenes> {
  const demo = join(dirname(faceApiModelDir()!), 'demo', `sample${((i % 6) + 1)}.jpg`);
  const { data } = await sharp(demo).removeAlpha().resize({ width: W, height: H, fit: 'cover' }).raw().toBuffer({ resolveWithObject: true });
  return pasteScenes({ width: W, height: H, data: new Uint8Array(data), channels: 3 }, { first: i * 1000, count: Number(a.scenes), minSide: 100, maxSide: 700, seed: i });
}

const BUCKETS = [0, 32, 64, 128, 256, Infinity];
const bucketName = (k: number) => `${BUCKETS[k]}–${BUCKETS[k + 1] === Infinity ? '' : BUCKETS[k + 1]}`;
const report: Record<string, unknown> = { command, backend: engine.name, detector: a.detector };

if (command === 'recall') {
  const photos = await Promise.all(Array.from({ length: Number(a.photos) }, (_, i) => bigPhoto(i)));
  const plates = photos.reduce((n, p) => n + p.plates.length, 0);
  console.log(`${photos.length} photos ${W}×${H}, ${plates} plates; tile levels: ${plateTileLevels(W, H, detector.config.inputSize, 100000).map((l) => `${l.side}px×${l.xs.length * l.ys.length}`).join(', ')}`);
  const rows = [];
  for (const maxTiles of a.tiles!.split(',').map(Number))
    for (const threshold of a.thresholds!.split(',').map(Number)) {
      const found = new Array(BUCKETS.length - 1).fill(0), total = new Array(BUCKETS.length - 1).fill(0);
      let falseBoxes = 0, ms = 0;
      for (const ph of photos) {
        const t0 = performance.now();
        const dets = await detectPlatesTiled(detector, ph.image, { scoreThreshold: threshold, maxTiles });
        ms += performance.now() - t0;
        const claimed = new Set<number>();
        for (const d of dets) {
          let best = -1, bestIou = 0.5;
          ph.plates.forEach((p, k) => { const v = iou(d.box, p.box); if (v >= bestIou && !claimed.has(k)) { best = k; bestIou = v; } });
          if (best >= 0) claimed.add(best); else falseBoxes++;
        }
        ph.plates.forEach((p, k) => {
          const b = BUCKETS.findIndex((lo, j) => p.box.width >= lo && p.box.width < BUCKETS[j + 1]!);
          total[b]++;
          if (claimed.has(k)) found[b]++;
        });
      }
      const recall = found.reduce((s, v) => s + v, 0) / plates;
      const row = { maxTiles, threshold, recall: +recall.toFixed(4), byWidth: Object.fromEntries(total.map((t, k) => [bucketName(k), `${found[k]}/${t}`])), falseBoxes, msPerPhoto: Math.round(ms / photos.length) };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  Object.assign(report, { photos: photos.length, width: W, height: H, plates, rows });
} else if (command === 'deid') {
  const { model: reader } = loadClassifier(a.reader!, engine);
  const modes = (a.modes ?? 'blur,pixelate,solid,telea').split(',') as FillMode[];
  for (const m of modes) if (!FILL_MODES.includes(m)) throw new Error(`--modes: '${m}' is not one of ${FILL_MODES.join(', ')}`);
  const model = a.model ? loadDiffusionModel(a.model, { engine }) : undefined;
  // The test set: single held-out scenes (the reader's own size), or the pasted large photos.
  const items: PastedScenes[] = [];
  if (a.big) for (let i = 0; i < Number(a.photos); i++) items.push(await bigPhoto(i));
  else {
    const set = await plateScenes({ split: 'test', count: Number(a.count), size: Number(a.size) });
    report.photoBackgrounds = set.photos;
    for (let i = 0; i < set.count; i++) {
      const sc = set.scene(i), S = set.size, plane = S * S, data = new Uint8Array(3 * plane);
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.max(0, Math.min(255, Math.round((sc.image.data[c * plane + p]! + 1) * 127.5)));
      items.push({ image: { width: S, height: S, data, channels: 3 }, plates: sc.plates });
    }
  }
  const rows = [];
  for (const mode of modes) {
    const t = { plates: 0, detected: 0, readableBefore: 0, changed: 0, charactersKept: 0, characters: 0, changedOutside: 0, falseBoxes: 0 };
    let ms = 0;
    for (const it of items) {
      const t0 = performance.now();
      const r = await anonymize(engine, it.image, { faces: false, plates: true, plateDetector: detector, mode, ...(mode === 'inpaint' ? { model: model!, steps: Number(a.steps) } : {}) });
      ms += performance.now() - t0;
      const rc = await readingChange(reader, it.plates, bytesToBatch(it.image as RgbImage), bytesToBatch(r.image));
      t.plates += rc.plates; t.readableBefore += rc.readableBefore; t.changed += rc.changed; t.charactersKept += rc.charactersKept; t.characters += rc.characters;
      t.detected += it.plates.filter((p) => r.plates.some((d) => iou(d.box, p.box) >= 0.5)).length;
      t.falseBoxes += r.plates.filter((d) => !it.plates.some((p) => iou(d.box, p.box) >= 0.5)).length;
      for (let p = 0; p < r.mask.data.length; p++) if (!r.mask.data[p]) for (let c = 0; c < 3; c++) t.changedOutside += +(r.image.data[p * 3 + c] !== it.image.data[p * 3 + c]);
    }
    const row = { mode, ...t, share: +(t.changed / t.readableBefore).toFixed(4), charShare: +(t.charactersKept / t.characters).toFixed(4), msPerImage: Math.round(ms / items.length) };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  Object.assign(report, { items: items.length, big: a.big, rows });
  reader.dispose();
  model?.dispose();
} else if (command === 'large') {
  const { anonymize: anonymizeNode } = await import('../src/anonymize/anonymize-node.js');
  const LW = Number(a.width), LH = Number(a.height), bg = new Uint8Array(LW * LH * 3);
  for (let y = 0; y < LH; y++) for (let x = 0; x < LW; x++) for (let c = 0; c < 3; c++) bg[(y * LW + x) * 3 + c] = 110 + Math.round(60 * Math.sin(0.002 * (c + 1) * x + 0.003 * y));
  const photo = pasteScenes({ width: LW, height: LH, data: bg, channels: 3 }, { first: 5000, count: 30, minSide: 300, maxSide: 1500, seed: 9 });
  const mb = (kb: number) => Math.round(kb / 1024);
  const rows = [];
  console.log(`${LW}×${LH} (${(LW * LH * 3 / 2 ** 20).toFixed(0)} MiB as RGB), ${photo.plates.length} plates; peak RSS so far ${mb(process.resourceUsage().maxRSS)} MiB`);
  for (const mode of (a.modes ?? 'blur,pixelate,solid,telea').split(',') as FillMode[]) {
    const t0 = performance.now();
    const r = await anonymizeNode(engine, photo.image, { plates: true, plateDetector: detector, mode });
    const row = { mode, seconds: +((performance.now() - t0) / 1000).toFixed(1), faces: r.boxes.length, plates: r.plates.length, found: photo.plates.filter((p) => r.plates.some((d) => iou(d.box, p.box) >= 0.5)).length, peakRssMiB: mb(process.resourceUsage().maxRSS) };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  Object.assign(report, { width: LW, height: LH, plates: photo.plates.length, rows });
} else {
  console.error('plates-anonymize: usage: scripts/plates-anonymize.ts recall | deid | large (see the top of the file)');
  process.exit(2);
}
if (a.out) writeFileAtomic(a.out, `${JSON.stringify(report, null, 2)}\n`);
detector.dispose();
engine.dispose();
