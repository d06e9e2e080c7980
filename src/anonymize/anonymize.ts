/**
 * anonymize(): faces found by face-api's TinyFaceDetector, licence plates found by inflow's plate
 * detector (or boxes the caller gives) become a mask as in the Private IDD work, and each masked
 * region is filled by one of five modes (docs/anonymize.md). Pixels outside the mask are returned
 * exactly as given. Browser-safe: the detectors and the model are passed in
 * (src/anonymize/anonymize-node.ts loads the bundled ones from disk in Node).
 */
import { checkSeed } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import { checkEnum, checkOptions } from '../models/guards.js';
import type { Box, Detection } from '../models/detect/box.js';
import { detectFaces } from '../models/detect/detect-faces.js';
import { detectFacesSsd } from '../models/detect/detect-faces-ssd.js';
import { SsdMobilenetV1 } from '../models/detect/ssd-mobilenet.js';
import { FaceRecognitionNet } from '../models/detect/face-recognition-net.js';
import type { RgbImage } from '../models/detect/image.js';
import { TinyFaceDetector } from '../models/detect/tiny-face-detector.js';
import type { PipelineModel } from '../models/diffusion/pipelines.js';
import { detectPlatesTiled, PLATE_TILE_DEFAULTS } from '../models/plates/detect-plates-tiled.js';
import { PlateDetector } from '../models/plates/plate-detector.js';
import { copyCanvas } from './canvas.js';
import { fillBlur } from './fill-blur.js';
import { checkLearnedModel, fillLearned } from './fill-inpaint.js';
import { fillPixelate } from './fill-pixelate.js';
import { checkColor, fillSolid, type Rgb } from './fill-solid.js';
import { fillTelea } from './fill-telea.js';
import { buildMask, checkMaskOptions, maskRect, type Mask, type Rect, type Region } from './mask.js';
import { checkIdentity, DEFAULT_FILL_TRIES, MAX_FILL_TRIES, retrySeed } from './verify-identity.js';

export const FILL_MODES = ['blur', 'pixelate', 'solid', 'telea', 'inpaint'] as const;
export type FillMode = (typeof FILL_MODES)[number];

/** Defaults of the mode settings: the best measured on the demo photos (docs/anonymize.md §4). */
export const FILL_DEFAULTS = { blur: 0.25, blocks: 6, color: [0, 0, 0] as Rgb, radius: 3 } as const;

export interface AnonymizeOptions {
  /** Detect faces with `detector` (default true). */
  faces?: boolean;
  /** How masked regions are filled (default 'telea'). */
  mode?: FillMode;
  /**
   * face-api's TinyFaceDetector (loadTinyFaceDetector in Node, detect.fetchTinyFaceDetector in a
   * browser) or its SSD-MobileNetV1 (loadSsdMobilenetV1 / detect.fetchSsdMobilenetV1: slower,
   * finds smaller and turned faces); needed when faces is true.
   */
  detector?: TinyFaceDetector | SsdMobilenetV1;
  /** Keep faces scoring strictly above this, in (0, 1) (default 0.5). */
  scoreThreshold?: number;
  /** Detect licence plates with `plateDetector` (default false). */
  plates?: boolean;
  /** inflow's plate detector (loadPlateDetector in Node, plates.plateDetectorFromBytes in a browser); needed when plates is true. */
  plateDetector?: PlateDetector;
  /** Keep plates scoring strictly above this, in (0, 1) (default 0.5). */
  plateThreshold?: number;
  /** Most overlapping tiles the plate detector looks at besides the whole photo (default 1024; 0: the whole photo only; docs/plates.md §10). */
  plateTiles?: number;
  /** Side of the TinyFaceDetector's input (multiple of 32; default 416): the photo is letterboxed to it, whatever its size. SSD's is fixed at 512. */
  inputSize?: number;
  /** More regions to fill, in the image's pixels (e.g. found by another detector); shrunk and dilated like faces. */
  boxes?: readonly Box[];
  /** Fraction taken off each side of a box, in [0, 0.5) (default 0.1: the central 80 % × 80 % is filled). */
  shrink?: number;
  /** Pixels added on every side after shrinking (default 0). */
  dilate?: number;
  /** blur: σ of the Gaussian as a fraction of the region's shorter side (default 0.25). */
  blur?: number;
  /** pixelate: blocks across a face region's shorter side, a plate region's longer side (default 6). */
  blocks?: number;
  /** solid: [r, g, b] (default black). */
  color?: readonly [number, number, number];
  /** telea: neighbourhood radius in pixels (default 3). */
  radius?: number;
  /** inpaint: a diffusion model (loadDiffusionModel): mask-conditioned inpainting, or a pixel generation model for RePaint. */
  model?: PipelineModel;
  /** inpaint: denoiser steps (default the model file's). */
  steps?: number;
  /** inpaint: seed (default 0); the same seed gives the same fill. */
  seed?: number;
  /** inpaint with RePaint: jump length and resampling passes (models.inpaint). */
  jumpLength?: number;
  resampleCount?: number;
  /** inpaint: progress over the denoiser calls of each fill pass over the image. */
  onStep?: (done: number, total: number) => void;
  /**
   * face-api's recognition network (loadFaceRecognitionNet in Node, detect.fetchFaceRecognitionNet in a
   * browser): each hidden face is compared with its original, and its detection carries `distance`
   * (above SAME_PERSON_DISTANCE, 0.6: face-api no longer matches it). With mode 'inpaint' a region whose
   * face still matches is filled again with other seeds (docs/anonymize.md §4.2).
   */
  recognizer?: FaceRecognitionNet;
  /** inpaint with a recognizer: fills per region at most, the first included (default 4, 1 = measure only). */
  tries?: number;
}

export interface AnonymizeResult {
  /** The anonymised image: a new buffer, the input's size and channels. */
  image: RgbImage;
  /** Faces above the threshold, in the image's pixels (unclipped, as the detector gives them), best first. */
  boxes: Detection[];
  /** Plates above their threshold, likewise (empty unless plates is true). */
  plates: Detection[];
  /** Every detection with its kind and its mask rectangle (null when nothing of it is inside the image): faces first, then plates, then `boxes`. */
  detections: RegionDetection[];
  /** The filled rectangles (after shrink, dilation and clipping), one per box that reaches into the image. */
  regions: Rect[];
  /** 255 where filled, 0 elsewhere. */
  mask: Mask;
}

/** One detection as the report lists it. */
export interface RegionDetection extends Detection {
  kind: 'face' | 'plate' | 'box';
  rect: Rect | null;
  /** Faces, with a recognizer: descriptor distance between the original and the result at the box. */
  distance?: number;
  /** Faces, with a recognizer: fills its region took (more than 1 only in mode 'inpaint'). */
  fills?: number;
}

const KEYS = ['faces', 'plates', 'plateDetector', 'plateThreshold', 'plateTiles', 'mode', 'detector', 'scoreThreshold', 'inputSize', 'boxes', 'shrink', 'dilate', 'blur', 'blocks', 'color', 'radius',
  'model', 'steps', 'seed', 'jumpLength', 'resampleCount', 'onStep', 'recognizer', 'tries'];
/** Settings that belong to one mode: given with another, they would be silently ignored. */
const MODE_KEYS: Record<string, FillMode> = {
  blur: 'blur', blocks: 'pixelate', color: 'solid', radius: 'telea', model: 'inpaint', steps: 'inpaint', seed: 'inpaint', jumpLength: 'inpaint', resampleCount: 'inpaint', onStep: 'inpaint', tries: 'inpaint',
};
/** Largest telea radius: the neighbourhood has ≈ π r² pixels, visited for every hole pixel. */
export const MAX_TELEA_RADIUS = 32;
/** Most pixelate blocks across a region: finer is barely a disguise. */
export const MAX_BLOCKS = 64;

function checkFraction(op: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !(v > lo && v <= hi)) fail(op, `${name} = ${describeValue(v)} must be a number above ${lo}, at most ${hi}`);
  return v;
}

function checkInt(op: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(op, `${name} = ${describeValue(v)} must be an integer from ${lo} to ${hi}`);
  return v;
}

const sameRect = (a: Rect, b: Rect): boolean => a.x0 === b.x0 && a.y0 === b.y0 && a.x1 === b.x1 && a.y1 === b.y1;

function checkBoxes(op: string, boxes: unknown): readonly Box[] {
  if (!Array.isArray(boxes)) fail(op, `boxes = ${describeValue(boxes)} must be an array of { x, y, width, height }`);
  boxes.forEach((b: Partial<Box> | null, i) => {
    if (!b || typeof b !== 'object' || ![b.x, b.y, b.width, b.height].every((v) => typeof v === 'number' && Number.isFinite(v)) || !(b.width! >= 0 && b.height! >= 0))
      fail(op, `boxes[${i}] = ${describeValue(b)} must be { x, y, width, height }: finite numbers, width and height ≥ 0`);
  });
  return boxes as readonly Box[];
}

/**
 * Faces, plates (and `boxes`) in `image` hidden by `mode` (docs/anonymize.md). The detector runs on its
 * own engine; `engine` is where the Node entry loads one when none is passed, and is checked to be
 * the detector's. Every option is checked before anything runs.
 */
export async function anonymize(engine: Engine | null, image: RgbImage, opts: AnonymizeOptions = {}): Promise<AnonymizeResult> {
  const op = 'anonymize';
  const o = checkOptions<AnonymizeOptions>(op, opts, KEYS);
  const out = copyCanvas(op, image);
  const mode = checkEnum(op, 'mode', o.mode, FILL_MODES) ?? 'telea';
  for (const [key, owner] of Object.entries(MODE_KEYS))
    if ((o as Record<string, unknown>)[key] !== undefined && owner !== mode) fail(op, `${key} applies to mode '${owner}' only (mode is '${mode}')`);
  const faces = o.faces ?? true;
  if (typeof faces !== 'boolean') fail(op, `faces = ${describeValue(faces)} must be true or false`);
  if (faces && !(o.detector instanceof TinyFaceDetector || o.detector instanceof SsdMobilenetV1))
    fail(op, `faces: true needs a detector (${o.detector === undefined ? 'none given' : `got ${describeValue(o.detector)}`}): loadTinyFaceDetector(engine) in Node, detect.fetchTinyFaceDetector(engine, url) in a browser`);
  if (o.detector instanceof SsdMobilenetV1 && o.inputSize !== undefined) fail(op, 'inputSize applies to the TinyFaceDetector; SSD-MobileNetV1 always looks at 512 × 512');
  if (faces && engine && o.detector!.engine !== engine) fail(op, 'the detector lives on another engine than the one given');
  if (!faces && (o.detector !== undefined || o.scoreThreshold !== undefined || o.inputSize !== undefined))
    fail(op, `${o.detector !== undefined ? 'detector' : o.scoreThreshold !== undefined ? 'scoreThreshold' : 'inputSize'} was given but faces is false`);
  const plates = o.plates ?? false;
  if (typeof plates !== 'boolean') fail(op, `plates = ${describeValue(plates)} must be true or false`);
  if (plates && !(o.plateDetector instanceof PlateDetector))
    fail(op, `plates: true needs a plateDetector (${o.plateDetector === undefined ? 'none given' : `got ${describeValue(o.plateDetector)}`}): loadPlateDetector(file, { engine }) in Node, plates.plateDetectorFromBytes(bytes, { engine }) in a browser`);
  if (plates && engine && o.plateDetector!.engine !== engine) fail(op, 'the plate detector lives on another engine than the one given');
  const plateKey = (['plateDetector', 'plateThreshold', 'plateTiles'] as const).find((k) => o[k] !== undefined);
  if (!plates && plateKey) fail(op, `${plateKey} was given but plates is false`);
  if (o.plateThreshold !== undefined && (typeof o.plateThreshold !== 'number' || !(o.plateThreshold > 0 && o.plateThreshold < 1)))
    fail(op, `plateThreshold = ${describeValue(o.plateThreshold)} must be a number between 0 and 1`);
  if (o.plateTiles !== undefined) checkInt(op, 'plateTiles', o.plateTiles, 0, 100_000);
  const extra = o.boxes === undefined ? [] : checkBoxes(op, o.boxes);
  const maskOpts = checkMaskOptions(op, { ...(o.shrink !== undefined ? { shrink: o.shrink } : {}), ...(o.dilate !== undefined ? { dilate: o.dilate } : {}) });
  const blur = checkFraction(op, 'blur', o.blur ?? FILL_DEFAULTS.blur, 0, 1);
  const blocks = checkInt(op, 'blocks', o.blocks ?? FILL_DEFAULTS.blocks, 1, MAX_BLOCKS);
  const color = checkColor(op, o.color ?? FILL_DEFAULTS.color);
  const radius = checkInt(op, 'radius', o.radius ?? FILL_DEFAULTS.radius, 1, MAX_TELEA_RADIUS);
  if (o.tries !== undefined && o.recognizer === undefined) fail(op, 'tries needs a recognizer: a fill is done again only when a face still matches its original');
  if (mode === 'inpaint' && o.model === undefined) fail(op, "mode 'inpaint' needs a model: a mask-conditioned inpainting model or a pixel generation model for RePaint (loadDiffusionModel)");
  if (mode === 'inpaint') checkLearnedModel(op, o.model, o);
  if (o.onStep !== undefined && typeof o.onStep !== 'function') fail(op, `onStep = ${describeValue(o.onStep)} must be a function`);
  if (o.seed !== undefined) checkSeed(op, o.seed);
  if (o.recognizer !== undefined) {
    if (!(o.recognizer instanceof FaceRecognitionNet)) fail(op, `recognizer = ${describeValue(o.recognizer)} must be a FaceRecognitionNet (loadFaceRecognitionNet)`);
    if (!faces) fail(op, 'recognizer was given but faces is false: it checks faces only');
    if (o.recognizer.engine !== o.detector!.engine) fail(op, 'the recognizer lives on another engine than the detector');
  }
  const tries = o.tries === undefined ? DEFAULT_FILL_TRIES : checkInt(op, 'tries', o.tries, 1, MAX_FILL_TRIES);

  const boxes = !faces ? []
    : o.detector instanceof SsdMobilenetV1
      ? await detectFacesSsd(o.detector, image, o.scoreThreshold !== undefined ? { minConfidence: o.scoreThreshold } : {})
      : await detectFaces(o.detector!, image, {
        ...(o.scoreThreshold !== undefined ? { scoreThreshold: o.scoreThreshold } : {}), ...(o.inputSize !== undefined ? { inputSize: o.inputSize } : {}),
      });
  const plateBoxes = plates
    ? await detectPlatesTiled(o.plateDetector!, image, { scoreThreshold: o.plateThreshold ?? PLATE_TILE_DEFAULTS.scoreThreshold, maxTiles: o.plateTiles ?? PLATE_TILE_DEFAULTS.maxTiles })
    : [];
  const detections: RegionDetection[] = [
    ...boxes.map((d) => ({ kind: 'face' as const, ...d })), ...plateBoxes.map((d) => ({ kind: 'plate' as const, ...d })),
    ...extra.map((box) => ({ kind: 'box' as const, box, score: 1 })),
  ].map((d) => ({ ...d, rect: maskRect(d.box, out.width, out.height, maskOpts) }));
  const { mask, regions } = buildMask(detections.map((d) => d.box), out.width, out.height, maskOpts);
  const plateRects = detections.filter((d) => d.kind === 'plate' && d.rect).map((d) => d.rect!);
  const learned = {
    ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.jumpLength !== undefined ? { jumpLength: o.jumpLength } : {}),
    ...(o.resampleCount !== undefined ? { resampleCount: o.resampleCount } : {}), ...(o.onStep ? { onStep: o.onStep } : {}),
  };
  if (mode === 'inpaint' && regions.length) {
    await fillLearned(o.model!, out, regions, { ...learned, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
  } else {
    for (const g of regions) {
      if (mode === 'blur') fillBlur(out, g, Math.max(1, blur * Math.min(g.x1 - g.x0, g.y1 - g.y0)));
      else if (mode === 'pixelate') fillPixelate(out, g, blocks, g.rects.some((r) => plateRects.some((p) => sameRect(p, r))) ? 'longer' : 'shorter');
      else if (mode === 'solid') fillSolid(out, g, color);
      else if (mode === 'telea') fillTelea(out, g, radius);
    }
  }
  if (o.recognizer) {
    const checked = detections.filter((d) => d.kind === 'face' && d.rect);
    const faceRegions = checked.map((d) => regions.findIndex((g) => g.rects.some((r) => sameRect(r, d.rect!))));
    const refill = mode === 'inpaint' ? (again: Region[], t: number) => fillLearned(o.model!, out, again, { ...learned, seed: retrySeed(o.seed ?? 0, t) }) : undefined;
    const check = await checkIdentity(o.recognizer, image, out, checked.map((d, i) => ({ box: d.box, region: faceRegions[i]! })), regions, tries, refill);
    checked.forEach((d, i) => Object.assign(d, { distance: check.distances[i]!, fills: faceRegions[i]! >= 0 ? check.fills[faceRegions[i]!]! : 0 }));
  }
  return { image: out, boxes, plates: plateBoxes, detections, regions: regions.flatMap((g) => g.rects), mask };
}
