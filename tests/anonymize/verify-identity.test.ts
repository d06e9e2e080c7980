import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymize } from '../../src/anonymize/anonymize.js';
import { anonymize as anonymizeNode } from '../../src/anonymize/anonymize-node.js';
import { copyCanvas, forEachHolePixel } from '../../src/anonymize/canvas.js';
import { descriptorDistances, SAME_PERSON_DISTANCE } from '../../src/anonymize/deidentify.js';
import { fillBlur } from '../../src/anonymize/fill-blur.js';
import { fillSolid } from '../../src/anonymize/fill-solid.js';
import { buildMask, maskRect, type Region } from '../../src/anonymize/mask.js';
import { checkIdentity, retrySeed } from '../../src/anonymize/verify-identity.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { detectFaces } from '../../src/models/detect/detect-faces.js';
import { faceApiModelDir, loadFaceRecognitionNet, loadTinyFaceDetector, recognizerWeightsBeside } from '../../src/models/detect/face-api-weights.js';
import type { FaceRecognitionNet } from '../../src/models/detect/face-recognition-net.js';
import type { RgbImage } from '../../src/models/detect/image.js';
import type { TinyFaceDetector } from '../../src/models/detect/tiny-face-detector.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig } from '../../src/models/diffusion/schema.js';
import { faceApiSample } from '../helpers/face-api-oracle.js';
import { randomizeOutput, tinyConfig } from '../models/diffusion-fixtures.js';

/** Demo photo 3 at 640 px: three faces, far apart (docs/anonymize.md §4). */
async function people(): Promise<RgbImage> {
  const { data, info } = await sharp(faceApiSample(3)).removeAlpha().resize({ width: 640 }).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const holeBytes = (img: RgbImage, g: Region): number[] => {
  const out: number[] = [];
  forEachHolePixel(copyCanvas('test', img), g, (_x, _y, i) => out.push(img.data[i * 3]!, img.data[i * 3 + 1]!, img.data[i * 3 + 2]!));
  return out;
};

let engine: Engine, detector: TinyFaceDetector, net: FaceRecognitionNet, img: RgbImage;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  detector = await loadTinyFaceDetector(engine);
  net = await loadFaceRecognitionNet(engine);
  img = await people();
});
afterAll(() => {
  detector?.dispose();
  net?.dispose();
  engine?.dispose();
});

describe('the identity check (docs/anonymize.md §4.2)', () => {
  it('fills again only what still matches, keeps the farther fill, and reports the distances of the final pixels', async () => {
    const faces = await detectFaces(detector, img);
    expect(faces).toHaveLength(3);
    const { regions } = buildMask(faces.map((f) => f.box), img.width, img.height);
    const checked = faces.map((f) => {
      const rect = maskRect(f.box, img.width, img.height)!;
      return { box: f.box, region: regions.findIndex((g) => g.rects.some((r) => r.x0 === rect.x0 && r.y0 === rect.y0 && r.x1 === rect.x1 && r.y1 === rect.y1)) };
    });
    // A "first fill" that changed nothing (every face at distance 0), then a light blur, then the original again.
    const out = copyCanvas('test', img), calls: number[][] = [];
    const refill = async (again: Region[], t: number) => {
      calls.push(again.map((g) => regions.indexOf(g)));
      for (const g of again) {
        if (t === 1) fillBlur(out, g, Math.max(1, 0.05 * Math.min(g.x1 - g.x0, g.y1 - g.y0)));
        else forEachHolePixel(out, g, (_x, _y, i) => out.data.set(img.data.subarray(i * 3, i * 3 + 3), i * 3));
      }
    };
    const check = await checkIdentity(net, img, out, checked, regions, 3, refill);
    const blurred = copyCanvas('test', img);
    for (const g of regions) fillBlur(blurred, g, Math.max(1, 0.05 * Math.min(g.x1 - g.x0, g.y1 - g.y0)));
    // The blur beat "unchanged"; the original pixels of the third fill lost to it and were put back.
    expect(out.data).toEqual(blurred.data);
    const blurDistances = await descriptorDistances(net, img, blurred, faces.map((f) => f.box));
    expect(check.distances).toEqual(blurDistances);
    expect(Math.min(...blurDistances)).toBeGreaterThan(0);
    const stillMatching = checked.filter((_, i) => blurDistances[i]! <= SAME_PERSON_DISTANCE).map((c) => c.region);
    expect(calls[0]).toEqual([0, 1, 2]);
    expect(calls.slice(1)).toEqual(stillMatching.length ? [stillMatching] : []);
    expect(check.fills).toEqual(regions.map((_, r) => (stillMatching.includes(r) ? 3 : 2)));
    // tries = 1 only measures.
    const once = copyCanvas('test', img);
    const measured = await checkIdentity(net, img, once, checked, regions, 1, refill);
    expect([measured.distances, measured.fills, calls.length]).toEqual([[0, 0, 0], [1, 1, 1], stillMatching.length ? 2 : 1]);
  }, 60_000);

  it('a region hiding several faces keeps the fill that hides the most of them, even when another of its faces matches whatever the fill', async () => {
    const faces = await detectFaces(detector, img);
    const { regions } = buildMask([faces[0]!.box], img.width, img.height);
    // The second face counts as part of the region but lies outside its pixels: it matches (distance 0) after every fill.
    const checked = [{ box: faces[0]!.box, region: 0 }, { box: faces[1]!.box, region: 0 }];
    const out = copyCanvas('test', img);
    const refill = async (again: Region[], t: number) => {
      if (t === 1) fillSolid(out, again[0]!, [0, 0, 0]);
      else forEachHolePixel(out, again[0]!, (_x, _y, i) => out.data.set(img.data.subarray(i * 3, i * 3 + 3), i * 3));
    };
    const check = await checkIdentity(net, img, out, checked, regions, 3, refill);
    const black = copyCanvas('test', img);
    fillSolid(black, regions[0]!, [0, 0, 0]);
    const blackDistances = await descriptorDistances(net, img, black, checked.map((c) => c.box));
    expect(blackDistances[0]).toBeGreaterThan(SAME_PERSON_DISTANCE);
    expect(blackDistances[1]).toBe(0);
    // The closest face is at 0 after every fill; the black fill is kept because it hides the first face.
    expect(out.data).toEqual(black.data);
    expect(check).toEqual({ distances: blackDistances, fills: [3] });
  }, 60_000);

  it('anonymize: every face carries its distance; a learned fill that leaves faces recognisable is drawn again and the farthest draw kept', async () => {
    const r = await anonymize(engine, img, { detector, mode: 'telea', recognizer: net });
    const faces = r.detections.filter((d) => d.kind === 'face');
    expect(faces.map((d) => d.distance)).toEqual(await descriptorDistances(net, img, r.image, r.boxes.map((d) => d.box)));
    expect(faces.map((d) => d.fills)).toEqual([1, 1, 1]);

    // A never-trained mask-conditioned model filling only the central 10 % of each box: every face stays recognisable, so each region gets all its fills.
    const c = tinyConfig(25, 0);
    const config: DiffusionModelConfig = { ...c, unet: { ...c.unet, inChannels: 3, outChannels: 3, condChannels: 4 }, conditioning: { kind: 'image', channels: 4, task: 'inpainting' } };
    const model = new DiffusionModel(engine, config, { seed: 1 });
    randomizeOutput(model);
    try {
      const base = { detector, mode: 'inpaint', model, steps: 2, shrink: 0.45 } as const;
      let passes = 0;
      const v = await anonymize(engine, img, { ...base, recognizer: net, tries: 3, onStep: (d) => (passes += +(d === 1)) });
      expect(passes).toBe(3);
      const vf = v.detections.filter((d) => d.kind === 'face');
      expect(vf.map((d) => d.fills)).toEqual([1, 1, 1].map(() => 3));
      expect(vf.every((d) => d.distance! <= SAME_PERSON_DISTANCE)).toBe(true);
      // Each draw alone: seed 0 first, then the retry seeds; all regions fail every time, so they are batched alike.
      const draws: Awaited<ReturnType<typeof anonymize>>[] = [];
      for (const seed of [0, retrySeed(0, 1), retrySeed(0, 2)]) draws.push(await anonymize(engine, img, { ...base, seed }));
      const boxes = v.boxes.map((d) => d.box);
      const dist: number[][] = [];
      for (const d of draws) dist.push(await descriptorDistances(net, img, d.image, boxes));
      const { regions } = buildMask(boxes, img.width, img.height, { shrink: 0.45 });
      expect(regions).toHaveLength(3);
      regions.forEach((g, k) => {
        const face = vf.findIndex((d) => d.rect!.x0 === g.x0 && d.rect!.y0 === g.y0);
        let best = 0;
        for (let t = 1; t < 3; t++) if (dist[t]![face]! > dist[best]![face]!) best = t;
        expect(holeBytes(v.image, g), `region ${k}`).toEqual(holeBytes(draws[best]!.image, g));
        expect(vf[face]!.distance).toBe(dist[best]![face]);
      });
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('options are checked in one line; the Node entry loads the network for verify: true', async () => {
    const bad: [object, RegExp][] = [
      [{ detector, recognizer: {} }, /^anonymize: recognizer = .* must be a FaceRecognitionNet \(loadFaceRecognitionNet\)$/],
      [{ faces: false, recognizer: net }, /^anonymize: recognizer was given but faces is false: it checks faces only$/],
      [{ detector, mode: 'telea', recognizer: net, tries: 2 }, /^anonymize: tries applies to mode 'inpaint' only \(mode is 'telea'\)$/],
      [{ detector, mode: 'inpaint', tries: 2 }, /^anonymize: tries needs a recognizer/],
    ];
    for (const [opts, msg] of bad) await expect(anonymize(engine, img, opts as never), JSON.stringify(Object.keys(opts))).rejects.toThrow(msg);
    const n = await anonymizeNode(engine, img, { mode: 'solid', verify: true });
    expect(n.detections.map((d) => typeof d.distance)).toEqual(['number', 'number', 'number']);
    await expect(anonymizeNode(engine, img, { verify: true, recognizer: net })).rejects.toThrow(/^anonymize: verify was given but a recognizer was passed too$/);
    await expect(anonymizeNode(engine, img, { verify: 'yes' as never })).rejects.toThrow(/^anonymize: verify = "yes" must be true or false$/);
  }, 60_000);

  it('the recognition network is looked for beside the detector: its folder, or the installed package when a manifest was named', () => {
    const dir = faceApiModelDir()!;
    expect(recognizerWeightsBeside(dir)).toEqual({ weights: dir });
    expect(recognizerWeightsBeside(`${dir}/tiny_face_detector_model-weights_manifest.json`)).toEqual({});
    expect(recognizerWeightsBeside(undefined)).toEqual({});
  });
});
