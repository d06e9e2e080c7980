// De-identification of `anonymize` measured on face-api's six demo photos (docs/anonymize.md §4):
//   nice -n 19 node --import tsx scripts/deidentify.ts [--out deidentify.json] [--width 0] [--modes blur,pixelate,solid,telea]
//       [--model file.safetensors --steps N --resample R --seed S] [--set blur=0.15 --set blocks=6 …] [--backend wasm --threads 1]
//       [--verify [--tries 4]]
// For every face the detector finds on an original photo (scored as face-api does, > 0.5): the
// 128-d descriptor distance between the original and the anonymised face at the same box (> 0.6:
// no longer the same person for face-api), and whether the detector still finds a face there
// (IoU ≥ 0.5: the scene keeps a face, the utility side). Photos are used at full size unless
// --width scales them down. With --verify, anonymize itself checks each face with the same network
// (and in mode inpaint fills a matching face again); because that selects on the very distance
// measured here, two views it never saw are measured too: the box grown by 20 % and the mirrored
// photo. Writes JSON and prints one line per mode.
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { anonymize, FILL_MODES, type AnonymizeOptions, type FillMode } from '../src/anonymize/anonymize.js';
import { deidentifiedShare, descriptorDistances, SAME_PERSON_DISTANCE } from '../src/anonymize/deidentify.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { iou } from '../src/models/detect/box.js';
import { detectFaces } from '../src/models/detect/detect-faces.js';
import { FACE_API_VERSION, faceApiModelDir, loadFaceRecognitionNet, loadTinyFaceDetector } from '../src/models/detect/face-api-weights.js';
import type { Box } from '../src/models/detect/box.js';
import type { RgbImage } from '../src/models/detect/image.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string', default: 'deidentify.json' }, width: { type: 'string', default: '0' }, modes: { type: 'string' },
    model: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' }, resample: { type: 'string' }, set: { type: 'string', multiple: true, default: [] },
    backend: { type: 'string', default: 'wasm' }, threads: { type: 'string', default: '1' }, help: { type: 'boolean', default: false },
    verify: { type: 'boolean', default: false }, tries: { type: 'string' },
  },
});
if (a.help) {
  console.log(`scripts/deidentify.ts [--out deidentify.json] [--width 0] [--modes ${FILL_MODES.join(',')}] [--model file.safetensors --steps N --resample R --seed S]
    [--set blur=σ --set blocks=N --set radius=R --set shrink=s --set dilate=px] [--backend wasm --threads 1] [--verify [--tries N]]
  face-api descriptor distance between each original and anonymised face on the six demo photos (docs/anonymize.md §4);
  --model enables --modes inpaint (default modes: all with --model, else the classical four); the sampler (DDPM/DDIM) is the model file's own;
  --verify: anonymize checks every face with the recognition network (inpaint: fills a matching face again, up to --tries fills),
  and the distances at the box grown by 20 % and on the mirrored photo are reported beside the checked one`);
  process.exit(0);
}
const modes = (a.modes ?? (a.model ? FILL_MODES.join(',') : 'blur,pixelate,solid,telea')).split(',') as FillMode[];
for (const m of modes) if (!FILL_MODES.includes(m)) throw new Error(`--modes: '${m}' is not one of ${FILL_MODES.join(', ')}`);
const settings: Record<string, number> = {};
for (const s of a.set!) {
  const [k, v] = s.split('=');
  settings[k!] = Number(v);
}
const modeKey: Record<string, FillMode> = { blur: 'blur', blocks: 'pixelate', radius: 'telea' };
if (a.tries !== undefined && !a.verify) throw new Error('--tries needs --verify');

/** The box grown by `f` of its size, about its centre. */
const grown = (b: Box, f: number): Box => ({ x: b.x - (b.width * f) / 2, y: b.y - (b.height * f) / 2, width: b.width * (1 + f), height: b.height * (1 + f) });
/** The photo mirrored left to right (3 channels). */
function mirrored(img: RgbImage): RgbImage {
  const { width: w, height: h } = img, data = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(img.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (y * w + w - 1 - x) * 3);
  return { width: w, height: h, data };
}
const mirroredBox = (b: Box, w: number): Box => ({ ...b, x: w - b.x - b.width });
const summarise = (d: readonly number[]) => ({ deidentified: d.filter((x) => x > SAME_PERSON_DISTANCE).length, share: deidentifiedShare(d), minDistance: Math.min(...d) });

const engine = await createEngine({ backend: a.backend as 'wasm', threads: Number(a.threads) });
const detector = await loadTinyFaceDetector(engine), net = await loadFaceRecognitionNet(engine);
const model = a.model ? await loadDiffusionModel(a.model, { engine }) : undefined;
const demo = join(dirname(faceApiModelDir()!), 'demo');

const photos: { name: string; image: RgbImage }[] = [];
for (let i = 1; i <= 6; i++) {
  let img = sharp(join(demo, `sample${i}.jpg`)).removeAlpha();
  if (Number(a.width)) img = img.resize({ width: Number(a.width) });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  photos.push({ name: `sample${i}.jpg`, image: { width: info.width, height: info.height, data: new Uint8Array(data) } });
}

const report: Record<string, unknown> = {
  source: `@vladmandic/face-api ${FACE_API_VERSION} demo/sample1-6.jpg`, width: Number(a.width) || 'full', backend: engine.name,
  threshold: SAME_PERSON_DISTANCE, settings, verify: a.verify,
  ...(model ? {
    model: {
      file: a.model, imageShape: model.imageShape, classes: model.classes, task: model.config.conditioning?.task ?? 'generation (RePaint)',
      steps: a.steps ? Number(a.steps) : model.config.sampler.steps, ...(a.verify ? { tries: a.tries ? Number(a.tries) : 'default' } : {}), method: model.config.sampler.method, seed: a.seed ? Number(a.seed) : 0, ...(model.config.conditioning ? {} : { resample: a.resample ? Number(a.resample) : 10 }),
    },
  } : {}),
  modes: {},
};
for (const mode of modes) {
  const opts: AnonymizeOptions = { mode };
  for (const [k, v] of Object.entries(settings)) if (modeKey[k] === mode || k === 'shrink' || k === 'dilate') (opts as Record<string, number>)[k] = v;
  if (mode === 'inpaint') {
    if (!model) throw new Error("--modes inpaint needs --model");
    Object.assign(opts, { model, ...(a.steps ? { steps: Number(a.steps) } : {}), ...(a.seed ? { seed: Number(a.seed) } : {}), ...(a.resample ? { resampleCount: Number(a.resample) } : {}) });
    if (a.tries) opts.tries = Number(a.tries);
  }
  if (a.verify) opts.recognizer = net;
  const grownD: number[] = [], mirrorD: number[] = [];
  let fills = 0;
  const distances: number[] = [], perPhoto: unknown[] = [];
  let kept = 0, seconds = 0;
  for (const { name, image } of photos) {
    const t0 = performance.now();
    const r = await anonymize(engine, image, { ...opts, detector });
    seconds += (performance.now() - t0) / 1000;
    const boxes = r.boxes.map((d) => d.box);
    const d = await descriptorDistances(net, image, r.image, boxes);
    if (a.verify) {
      r.detections.forEach((x, k) => {
        if (x.kind === 'face' && x.distance !== d[k]) throw new Error(`${name} face ${k}: anonymize reported distance ${x.distance}, measured ${d[k]}`);
      });
      fills += r.detections.reduce((s, x) => s + (x.fills ?? 0), 0);
    }
    const dg = await descriptorDistances(net, image, r.image, boxes.map((b) => grown(b, 0.2)));
    const dm = await descriptorDistances(net, mirrored(image), mirrored(r.image), boxes.map((b) => mirroredBox(b, image.width)));
    grownD.push(...dg);
    mirrorD.push(...dm);
    const again = await detectFaces(detector, r.image);
    const found = boxes.filter((b) => again.some((f) => iou(f.box, b) >= 0.5)).length;
    distances.push(...d);
    kept += found;
    perPhoto.push({
      photo: name, width: image.width, height: image.height, faces: boxes.length, distances: d.map((x) => +x.toFixed(4)), stillDetected: found,
      grownBox: dg.map((x) => +x.toFixed(4)), mirrored: dm.map((x) => +x.toFixed(4)), ...(a.verify ? { fills: r.detections.filter((x) => x.kind === 'face').map((x) => x.fills) } : {}),
    });
  }
  const summary = {
    faces: distances.length, ...summarise(distances), meanDistance: distances.reduce((s, x) => s + x, 0) / distances.length,
    stillDetected: kept, seconds: +seconds.toFixed(2), grownBox: summarise(grownD), mirrored: summarise(mirrorD), ...(a.verify ? { fillsPerFace: fills / distances.length } : {}),
    photos: perPhoto,
  };
  (report.modes as Record<string, unknown>)[mode] = summary;
  console.log(`${mode.padEnd(8)} ${summary.deidentified}/${summary.faces} faces above ${SAME_PERSON_DISTANCE} (${(100 * summary.share).toFixed(1)} %), ` +
    `distance min ${summary.minDistance.toFixed(3)} mean ${summary.meanDistance.toFixed(3)}; detector still finds ${kept}; ${seconds.toFixed(1)} s; ` +
    `box grown 20 % ${summary.grownBox.deidentified}/${summary.faces}, mirrored ${summary.mirrored.deidentified}/${summary.faces}${a.verify ? `; ${(fills / distances.length).toFixed(2)} fills per face` : ''}`);
}
writeFileAtomic(a.out!, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
console.log(`→ ${a.out}`);
model?.dispose();
detector.dispose();
net.dispose();
engine.dispose();
