// `detect` suite: face-api's TinyFaceDetector on inflow's engine against face-api itself on
// tfjs-wasm, side by side in one process (docs/face-detection.md, docs/anonymize.md §7):
// 1. the network forward at 416 × 416 on inflow wasm 1 / all threads and tfjs-wasm (webgpu apart,
//    at a size a software adapter affords, against wasm 1 thread at that size);
// 2. a whole detection on the demo photos (letterbox, network, box decoding, NMS) against
//    face-api's detectAllFaces with TinyFaceDetectorOptions({ inputSize: 416 });
// 3. anonymize() of a 1920 × 1080 photo per fill mode on wasm 1 / all threads, and one photo file
//    to file (JPEG decode, anonymize, JPEG encode as `inflow anonymize` writes it);
// 4. the licence-plate detector (bench/detect-plates.ts): forward at 128 × 128, tiled detection of
//    a 1920 × 1080 photo with plates, and anonymize() of it with plates per classical mode.
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { anonymize, type AnonymizeOptions, type FillMode } from '../src/anonymize/anonymize.js';
import { encodePhoto } from '../src/cli/photo-files.js';
import type { Engine } from '../src/index.js';
import { detectFaces } from '../src/models/detect/detect-faces.js';
import { loadTinyFaceDetector } from '../src/models/detect/face-api-weights.js';
import type { RgbImage } from '../src/models/detect/image.js';
import { letterbox } from '../src/models/detect/letterbox.js';
import { TINY_FACE, type TinyFaceDetector } from '../src/models/detect/tiny-face-detector.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import { relDiff, sig } from './lib/compare.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { sideBySide, type Call, type TimingPlan } from './lib/timing.js';
import { agreement, faceApiPeer, faceApiSample, gridToNhwc, tinyFaceFlops, type FaceApiPeer } from './detect-peer.js';
import { plateRows } from './detect-plates.js';
import { anonymizeTable, detectTable, forwardTable, plateAnonymizeTable, plateForwardTable, plateTiledTable, type AnonymizeRow, type DetectRow, type ForwardRow, type Slot } from './detect-tables.js';
import { tfjsAndInflowContenders } from './ops.js';
import { webgpuEngine } from './unet.js';

const SIZE = 416;
const HD = { width: 1920, height: 1080 } as const;
const SIZES = {
  full: { photos: [1, 2, 3, 4, 5, 6], gpuSize: 416, inpaint: true },
  quick: { photos: [1], gpuSize: 128, inpaint: false },
} as const;
const PLANS: Record<'forward' | 'detect' | 'anonymize' | 'gpu' | 'quick', TimingPlan> = {
  forward: { warmup: 2, reps: 15, minReps: 5, budgetMs: 15000 },
  detect: { warmup: 1, reps: 9, minReps: 3, budgetMs: 10000 },
  anonymize: { warmup: 1, reps: 5, minReps: 2, budgetMs: 10000 },
  gpu: { warmup: 0, reps: 2, minReps: 1, budgetMs: 15000 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};
const MODES: FillMode[] = ['blur', 'pixelate', 'solid', 'telea'];
/** The learned fill, full runs only: the bundled digit model (docs/anonymize.md §2.5) with a short RePaint. */
const INPAINT = { file: 'diffusion-mnist', steps: 20, resampleCount: 1 } as const;

async function photo(i: number, resize?: { width: number; height: number }): Promise<RgbImage> {
  let img = sharp(faceApiSample(i)).removeAlpha();
  if (resize) img = img.resize({ ...resize, fit: 'fill' });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** inflow's forward from an uploaded [1, 3, S, S] input to the grid read back on the host. */
function inflowForward(det: TinyFaceDetector, input: Float32Array, S: number): { call: Call; dispose: () => void } {
  const x = det.engine.tensor(input, [1, 3, S, S]).keep();
  return {
    call: async () => {
      const y = det.forward(x);
      try {
        return await y.data();
      } finally {
        y.dispose();
      }
    },
    dispose: () => x.dispose(),
  };
}

async function timeForward(slots: Slot[], dets: Map<string, TinyFaceDetector>, peer: FaceApiPeer | null, S: number, plan: TimingPlan): Promise<ForwardRow> {
  const img = await photo(1, { width: S, height: S });
  const input = letterbox('bench', img, S, TINY_FACE.meanRgb).data;
  const t = peer?.input(img);
  const runs = slots.map((s) => (s.id === 'tfjs' ? null : inflowForward(dets.get(s.id)!, input, S)));
  const calls = slots.map((s, i) => runs[i]?.call ?? (() => peer!.forward(t!, S)));
  const { timings, coldResults } = await sideBySide(calls, plan);
  runs.forEach((r) => r?.dispose());
  t?.dispose();
  // Δ against face-api when it ran, else against the first inflow contender.
  const refIdx = slots.findIndex((s) => s.id === 'tfjs');
  const G = S / 32, nhwc = (i: number) => (slots[i]!.id === 'tfjs' ? coldResults[i] as Float32Array : gridToNhwc(coldResults[i] as Float32Array, G));
  const ref = nhwc(refIdx >= 0 ? refIdx : 0);
  return {
    size: S, flops: tinyFaceFlops(S),
    contenders: slots.map((s, i) => ({ ...s, timing: timings[i]!, relDiff: i === (refIdx >= 0 ? refIdx : 0) ? null : sig(relDiff(nhwc(i), ref)) })),
  };
}

async function timeDetect(slots: Slot[], dets: Map<string, TinyFaceDetector>, peer: FaceApiPeer, i: number, plan: TimingPlan): Promise<DetectRow> {
  const img = await photo(i);
  const t = peer.input(img);
  const calls: Call[] = slots.map((s) => (s.id === 'tfjs' ? () => peer.detect(t, SIZE) : () => detectFaces(dets.get(s.id)!, img, { inputSize: SIZE })));
  const { timings, coldResults } = await sideBySide(calls, plan);
  t.dispose();
  const tfIdx = slots.findIndex((s) => s.id === 'tfjs');
  const theirs = coldResults[tfIdx] as Array<{ x: number; y: number; width: number; height: number }>;
  return {
    photo: `sample${i}.jpg`, width: img.width, height: img.height, faceApiFaces: theirs.length,
    contenders: slots.map((s, k) => {
      const faces = (coldResults[k] as unknown[]).length;
      return { ...s, timing: timings[k]!, faces, ...(k === tfIdx ? {} : agreement(coldResults[k] as Parameters<typeof agreement>[0], theirs)) };
    }),
  };
}

async function timeAnonymize(slots: Slot[], dets: Map<string, TinyFaceDetector>, img: RgbImage, label: string, opts: AnonymizeOptions, plan: TimingPlan,
  wrap?: (f: (image: RgbImage) => Promise<unknown>) => Call): Promise<AnonymizeRow> {
  const run = (s: Slot) => (image: RgbImage) => anonymize(s.engine!, image, { ...opts, detector: dets.get(s.id)! });
  const calls: Call[] = slots.map((s) => (wrap ? wrap(run(s)) : () => run(s)(img)));
  const { timings, coldResults } = await sideBySide(calls, plan);
  const faces = (r: unknown) => (r as { boxes?: unknown[] }).boxes?.length ?? null;
  return { label, mode: opts.mode!, contenders: slots.map((s, k) => ({ ...s, timing: timings[k]!, faces: faces(coldResults[k]) })) };
}

export const detectBench: Suite = {
  name: 'detect',
  about: "face-api's TinyFaceDetector at 416×416 on inflow wasm 1 / all threads (webgpu apart) vs face-api on tfjs-wasm; detection on the demo photos; anonymize() of a 1920×1080 photo per mode; the licence-plate detector at 128×128, tiled on a 1920×1080 photo, and anonymize() with plates per mode (about 6 min; --quick ≈ 1 min)",
  async run(ctx: SuiteContext) {
    const q = ctx.quick, size = q ? SIZES.quick : SIZES.full;
    const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
    const peer = await faceApiPeer();
    const cpu: Slot[] = contenders.map(({ id, label, threads, engine }) => ({ id, label, threads, ...(engine ? { engine } : {}) }));
    const inflow = cpu.filter((s) => s.engine);
    const dets = new Map<string, TinyFaceDetector>();
    for (const s of inflow) dets.set(s.id, await loadTinyFaceDetector(s.engine!));
    const gpuOr = await webgpuEngine();
    if ('why' in gpuOr) notes.push(gpuOr.why);
    else dets.set('webgpu', await loadTinyFaceDetector(gpuOr.engine));
    if (q) notes.push(`quick: one photo, one call per contender after the cold one, webgpu at ${SIZES.quick.gpuSize}×${SIZES.quick.gpuSize}, no learned fill`);

    // ---- 1. network forward
    process.stderr.write(`detect: TinyFaceDetector forward at ${SIZE}×${SIZE}\n`);
    const forward: ForwardRow[] = [await timeForward(cpu, dets, peer, SIZE, q ? PLANS.quick : PLANS.forward)];
    if (!('why' in gpuOr)) {
      process.stderr.write(`detect: forward on webgpu at ${size.gpuSize}×${size.gpuSize}\n`);
      const gpu: Slot = { id: 'webgpu', label: gpuOr.label, threads: 0, engine: gpuOr.engine };
      forward.push(await timeForward([inflow[0]!, gpu], dets, null, size.gpuSize, q ? PLANS.quick : PLANS.gpu));
    }
    ctx.peak.sample(1);

    // ---- 2. whole detections on the demo photos
    const detect: DetectRow[] = [];
    for (const i of size.photos) {
      process.stderr.write(`detect: detection on sample${i}.jpg\n`);
      detect.push(await timeDetect(cpu, dets, peer, i, q ? PLANS.quick : PLANS.detect));
    }
    ctx.peak.sample(1);

    // ---- 3. anonymize() of a 1920 × 1080 photo
    const hd = await photo(1, HD);
    const hdT = peer.input(hd);
    const hdFaceApi = (await peer.detect(hdT, SIZE)).length;
    hdT.dispose();
    const plan = q ? PLANS.quick : PLANS.anonymize;
    const anon: AnonymizeRow[] = [];
    for (const mode of MODES) {
      process.stderr.write(`detect: anonymize ${HD.width}×${HD.height}, ${mode}\n`);
      anon.push(await timeAnonymize(inflow, dets, hd, mode, { mode }, plan));
    }
    const jpeg = await sharp(Buffer.from(hd.data), { raw: { width: hd.width, height: hd.height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    process.stderr.write('detect: anonymize JPEG file to file, telea\n');
    anon.push(await timeAnonymize(inflow, dets, hd, 'telea, JPEG bytes → JPEG bytes', { mode: 'telea' }, plan, (run) => async () => {
      const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const r = await run({ width: info.width, height: info.height, data: new Uint8Array(data) });
      const out = (r as { image: RgbImage }).image;
      await encodePhoto(out, 'jpeg');
      return r;
    }));
    if (size.inpaint) {
      const path = fileURLToPath(new URL(`../models/${INPAINT.file}.safetensors`, import.meta.url));
      for (const s of inflow) {
        process.stderr.write(`detect: anonymize ${HD.width}×${HD.height}, inpaint (${INPAINT.file}, ${INPAINT.steps} steps) on ${s.label}\n`);
        const model = loadDiffusionModel(path, { engine: s.engine! });
        const row = await timeAnonymize([s], dets, hd, `inpaint (${INPAINT.file}, RePaint ${INPAINT.steps} steps, no resampling)`,
          { mode: 'inpaint', model, steps: INPAINT.steps, resampleCount: INPAINT.resampleCount }, PLANS.quick);
        model.dispose();
        const prev = anon.find((r) => r.mode === 'inpaint');
        if (prev) prev.contenders.push(...row.contenders);
        else anon.push(row);
      }
    } else notes.push('quick: the learned fill (inpaint) is timed in full runs only: RePaint with the bundled digit model takes seconds per photo');
    ctx.peak.sample(1);

    // ---- 4. licence plates
    const plates = await plateRows(inflow, dets, hd, MODES, q);
    notes.push(...plates.notes);
    ctx.peak.sample(1);

    for (const d of dets.values()) d.dispose();
    for (const s of inflow) s.engine!.dispose();
    if (!('why' in gpuOr)) gpuOr.engine.dispose();

    const strip = <T extends { engine?: Engine }>(c: T): Omit<T, 'engine'> => { const { engine: _e, ...rest } = c; return rest; };
    const peak = ctx.peak.gflopsPerCore;
    return {
      tables: [
        forwardTable(forward, peak),
        detectTable(detect, SIZE),
        anonymizeTable(anon, HD, hdFaceApi),
        plateForwardTable(plates.forward, peak),
        plateTiledTable(plates.tiled),
        plateAnonymizeTable(plates.anonymize, HD),
        ...(notes.length ? [{ title: 'detect notes', header: ['note'], rows: notes.map((n) => [n]) }] : []),
      ],
      data: {
        inputSize: SIZE, peers: { tfjs: tfjsFacts, faceApi: '@vladmandic/face-api 1.7.15' }, photos: size.photos, anonymizePhoto: { source: 'sample1.jpg', ...HD, faceApiFaces: hdFaceApi },
        forward: forward.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
        detect: detect.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
        anonymize: anon.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
        inpaint: size.inpaint ? INPAINT : null,
        plates: {
          detector: 'models/plate-detector.safetensors', photo: { base: 'sample1.jpg resized', ...HD, pastedPlates: plates.photo.pasted, tiles: plates.photo.tiles },
          forward: plates.forward.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
          tiled: plates.tiled.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
          anonymize: plates.anonymize.map((r) => ({ ...r, contenders: r.contenders.map(strip) })),
        },
        notes,
      },
    };
  },
};
