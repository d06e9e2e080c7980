import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { parseTfjsManifest, decodeTfjsWeights } from '../../src/io/tfjs-manifest.js';
import { decodeYoloGrid } from '../../src/models/detect/yolo-decode.js';
import { detectFaces, tinyFaceDetectorFromTfjs } from '../../src/models/detect/detect-faces.js';
import { loadTinyFaceDetector, resolveManifest } from '../../src/models/detect/face-api-weights.js';
import { letterbox } from '../../src/models/detect/letterbox.js';
import { nonMaxSuppression } from '../../src/models/detect/nms.js';
import { TINY_FACE, TinyFaceDetector } from '../../src/models/detect/tiny-face-detector.js';
import { iou, type Detection } from '../../src/models/detect/box.js';
import { faceApiModels } from '../helpers/face-api-oracle.js';
import { cropBox } from '../../src/models/detect/crop.js';
import { faceDescriptor, descriptorDistance } from '../../src/models/detect/face-descriptor.js';
import { FaceRecognitionNet } from '../../src/models/detect/face-recognition-net.js';

const engine = await createEngine({ backend: 'wasm', threads: 1 });
afterAll(() => engine.dispose());

const mean = [10, 20, 30] as const;
const det = (x: number, y: number, w: number, h: number, score: number): Detection => ({ box: { x, y, width: w, height: h }, score });

describe('face detector parts', () => {
  it('letterbox pads bottom/right with black before normalising, and samples as TensorFlow\'s legacy bilinear', () => {
    // 4 wide × 2 high RGB, value = 10·row + col + 100·channel, into a 4 × 4 square (no resampling).
    const px = new Uint8Array(4 * 2 * 3);
    for (let r = 0; r < 2; r++) for (let c = 0; c < 4; c++) for (let k = 0; k < 3; k++) px[(r * 4 + c) * 3 + k] = 10 * r + c + 100 * k;
    const a = letterbox('t', { width: 4, height: 2, data: px }, 4, mean);
    expect(a.inner).toEqual({ width: 4, height: 2 });
    for (let k = 0; k < 3; k++)
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 4; c++) {
          const raw = r < 2 ? 10 * r + c + 100 * k : 0;
          expect(a.data[k * 16 + r * 4 + c]).toBeCloseTo((raw - mean[k]!) / 255, 6);
        }
    // 8 × 8 → 4 × 4 reads source pixel 2·o exactly (no half-pixel offset); RGBA drops alpha.
    const big = new Uint8Array(8 * 8 * 4);
    for (let i = 0; i < 64; i++) { big[4 * i] = i; big[4 * i + 3] = 255; }
    const b = letterbox('t', { width: 8, height: 8, data: big }, 4, [0, 0, 0]);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(b.data[r * 4 + c]).toBeCloseTo((16 * r + 2 * c) / 255, 6);
    // 2 × 1 (padded to 2 × 2) → 3 × 3: source o · 2/3, so output 1 is ⅔ of the way from pixel 0 to pixel 1.
    const c3 = letterbox('t', { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 90, 0, 0]) }, 3, [0, 0, 0]);
    expect(c3.data[1]! * 255).toBeCloseTo(60, 4);
    expect(c3.data[3 + 0]! * 255).toBeCloseTo(0, 4);
  });

  it('centred letterbox splits the padding round(d/2) after, the rest before (the descriptor input)', () => {
    // 1 wide × 4 high: 3 columns of padding, 2 after and 1 before.
    const px = Uint8Array.from([10, 0, 0, 20, 0, 0, 30, 0, 0, 40, 0, 0]);
    const a = letterbox('t', { width: 1, height: 4, data: px }, 4, [0, 0, 0], true);
    for (let r = 0; r < 4; r++) expect(Array.from(a.data.subarray(r * 4, r * 4 + 4)).map((v) => Math.round(v * 255))).toEqual([0, 10 * (r + 1), 0, 0]);
    // 4 wide × 2 high: 2 rows, 1 above and 1 below.
    const b = letterbox('t', { width: 4, height: 2, data: new Uint8Array(24).fill(255) }, 4, [0, 0, 0], true);
    expect(Array.from(b.data.subarray(0, 16)).map((v) => Math.round(v * 255))).toEqual([...Array(4).fill(0), ...Array(8).fill(255), ...Array(4).fill(0)]);
  });

  it('crops a box as face-api does: clipped to the photo, then floored', () => {
    const img = { width: 5, height: 4, data: Uint8Array.from({ length: 60 }, (_, i) => i) };
    const c = cropBox('t', img, { x: 3.7, y: -1.5, width: 4, height: 3.9 })!;
    // x 3.7 → 3, width min(7.7, 5) − 3.7 = 1.3 → 1; y 0, height 2.4 → 2.
    expect([c.width, c.height]).toEqual([1, 2]);
    expect(Array.from(c.data)).toEqual([9, 10, 11, 24, 25, 26]);
    expect(cropBox('t', img, { x: 6, y: 0, width: 3, height: 3 })).toBeNull();
    expect(cropBox('t', img, { x: -9, y: 0, width: 3, height: 3 })).toBeNull();
    expect(() => cropBox('t', img, { x: NaN, y: 0, width: 1, height: 1 })).toThrow(/^t: box must have finite x, y, width and height$/);
  });

  it('the descriptor network refuses wrong weights, inputs and boxes in one line', async () => {
    const net = new FaceRecognitionNet(engine);
    const img = { width: 8, height: 8, data: new Uint8Array(192) };
    await expect(faceDescriptor({} as never, img)).rejects.toThrow(/^faceDescriptor: net = an object must be a FaceRecognitionNet/);
    await expect(faceDescriptor(net, img, { x: 20, y: 0, width: 4, height: 4 })).rejects.toThrow(/lies outside the 8×8 image/);
    const wrong = engine.zeros([1, 3, 64, 64]);
    expect(() => net.forward(wrong)).toThrow(/input \[1, 3, 64, 64\] must be \[N, 3, 150, 150\]/);
    wrong.dispose();
    // All-zero weights give the zero descriptor, whatever the face.
    expect(Array.from(await faceDescriptor(net, img)).every((v) => v === 0)).toBe(true);
    expect(() => descriptorDistance([1, 2], [1])).toThrow(/descriptors of 2 and 1 values/);
    expect(descriptorDistance([0, 3], [4, 0])).toBe(5);
    net.dispose();
    const tiny = decodeTfjsWeights(parseTfjsManifest(readFileSync(join(faceApiModels, TINY_FACE.manifest), 'utf8')),
      [[new Uint8Array(readFileSync(join(faceApiModels, 'tiny_face_detector_model.bin')))]]);
    const other = new FaceRecognitionNet(engine);
    expect(() => other.loadTfjs(tiny, 't.json')).toThrow(/^t.json: no weight 'conv32_down\/conv\/filters'/);
    other.dispose();
  });

  it('decodes a grid slot to the box face-api\'s formulas give, in the photo\'s pixels', () => {
    // One slot (anchor 1 at row 3, col 5) of a 13 × 13 grid fires with t = (0, 0, ln 2, 0).
    const G = 13, grid = new Float32Array(25 * G * G).fill(-20);
    const set = (k: number, v: number) => { grid[(1 * 5 + k) * G * G + 3 * G + 5] = v; };
    set(0, 0); set(1, 0); set(2, Math.log(2)); set(3, 0); set(4, 2);
    // A 832 × 416 photo fills the top half of the 416 square: the square spans 832 photo pixels.
    const out = decodeYoloGrid(grid, G, { anchors: TINY_FACE.anchors, scoreThreshold: 0.5, input: { size: 416, inner: { width: 416, height: 208 } }, image: { width: 832, height: 416 } });
    expect(out).toHaveLength(1);
    const [aw, ah] = TINY_FACE.anchors[1];
    const unit = 832 / G; // photo pixels per grid cell
    expect(out[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    expect(out[0]!.box.width).toBeCloseTo(2 * aw * unit, 3);
    expect(out[0]!.box.height).toBeCloseTo(ah * unit, 3);
    expect(out[0]!.box.x + out[0]!.box.width / 2).toBeCloseTo(5.5 * unit, 3);
    expect(out[0]!.box.y + out[0]!.box.height / 2).toBeCloseTo(3.5 * unit, 3);
    // The threshold is strict: σ(0) = 0.5 does not pass 0.5.
    set(4, 0);
    expect(decodeYoloGrid(grid, G, { anchors: TINY_FACE.anchors, scoreThreshold: 0.5, input: { size: 416, inner: { width: 416, height: 208 } }, image: { width: 832, height: 416 } })).toHaveLength(0);
  });

  it('NMS keeps the best box, drops overlaps above the threshold, keeps the rest, best first', () => {
    const a = det(0, 0, 10, 10, 0.9), b = det(1, 1, 10, 10, 0.8), c = det(50, 50, 10, 10, 0.7), d = det(0, 5, 10, 10, 0.95);
    expect(iou(a.box, b.box)).toBeCloseTo(81 / 119, 9);
    expect(iou(a.box, d.box)).toBeCloseTo(50 / 150, 9);
    // d beats a; a survives d (IoU 1/3 ≤ 0.4) and removes b (0.68); c overlaps nothing.
    expect(nonMaxSuppression([a, b, c, d], 0.4)).toEqual([d, a, c]);
    expect(nonMaxSuppression([a, b, c, d], 0.3)).toEqual([d, c]);
    // Equal scores: the later one in scan order is taken first, as face-api's sort-then-pop.
    const e = det(0, 0, 10, 10, 0.5), f = det(1, 0, 10, 10, 0.5);
    expect(nonMaxSuppression([e, f], 0.4)).toEqual([f]);
    expect(nonMaxSuppression([], 0.4)).toEqual([]);
    expect(iou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });

  it('builds TinyFaceDetector with 193 321 parameters from face-api\'s weights', async () => {
    const net = await loadTinyFaceDetector(engine);
    const params = [...net.namedParameters().values()].reduce((s, t) => s + t.size, 0);
    expect(params).toBe(193_321);
    // conv1's depthwise filter [3, 3, 16, 1] lands at weight[c, 0, a, b].
    const text = readFileSync(join(faceApiModels, TINY_FACE.manifest), 'utf8');
    const w = decodeTfjsWeights(parseTfjsManifest(text), [[new Uint8Array(readFileSync(join(faceApiModels, 'tiny_face_detector_model.bin')))]]);
    const dw = w.get('conv1/depthwise_filter')!.data, ours = await net.blocks[0]!.depthwise.weight.value.data();
    expect(ours[(5 * 3 + 2) * 3 + 1]).toBe(dw[(2 * 3 + 1) * 16 + 5]);
    net.dispose();
  });

  it('refuses a wrong manifest, bad options and bad images in one line', async () => {
    const before = engine.memory().tensors;
    const recog = resolveManifest(faceApiModels, 'face_recognition_model-weights_manifest.json');
    await expect(loadTinyFaceDetector(engine, { weights: recog })).rejects.toThrow(/face_recognition_model-weights_manifest.json: no weight 'conv0\/filters' \(is it the right model's manifest\?\)$/);
    const w = decodeTfjsWeights(parseTfjsManifest(readFileSync(join(faceApiModels, TINY_FACE.manifest), 'utf8')),
      [[new Uint8Array(readFileSync(join(faceApiModels, 'tiny_face_detector_model.bin')))]]);
    w.set('extra/bias', { shape: [1], dtype: 'float32', data: new Float32Array(1) });
    expect(() => tinyFaceDetectorFromTfjs(engine, w, 'x.json')).toThrow(/^x.json: holds weights this model does not use: extra\/bias/);
    w.delete('extra/bias');
    w.set('conv8/bias', { shape: [24], dtype: 'float32', data: new Float32Array(24) });
    expect(() => tinyFaceDetectorFromTfjs(engine, w, 'x.json')).toThrow(/'conv8.bias' has shape \[24\] but the module's is \[25\]/);
    expect(engine.memory().tensors).toBe(before);
    await expect(loadTinyFaceDetector(engine, { weights: '/nonexistent/dir/m.json' })).rejects.toThrow(/m.json: weights manifest file not found/);

    const net = new TinyFaceDetector(engine);
    const img = { width: 4, height: 4, data: new Uint8Array(48) };
    await expect(detectFaces(net, img, { inputSize: 100 })).rejects.toThrow(/^detectFaces: inputSize = 100 must be a multiple of 32 from 32 to 2048$/);
    await expect(detectFaces(net, img, { inputSize: 4096 })).rejects.toThrow(/inputSize = 4096 must be/);
    await expect(detectFaces(net, img, { scoreThreshold: 1 })).rejects.toThrow(/scoreThreshold = 1 must be a number between 0 and 1/);
    await expect(detectFaces(net, img, { scoreThreshold: NaN })).rejects.toThrow(/scoreThreshold = NaN/);
    await expect(detectFaces(net, img, { iouThreshold: -0.1 })).rejects.toThrow(/iouThreshold = -0.1 must be a number from 0 to 1/);
    await expect(detectFaces(net, img, { threshold: 0.3 } as never)).rejects.toThrow(/unknown option 'threshold'/);
    await expect(detectFaces(net, { width: 4, height: 4, data: new Uint8Array(47) })).rejects.toThrow(/image has 47 bytes for 4×4 pixels: it must be RGB or RGBA/);
    await expect(detectFaces(net, { width: 0, height: 4, data: new Uint8Array(0) })).rejects.toThrow(/image width = 0 must be a positive integer/);
    await expect(detectFaces(net, { width: 2, height: 2, data: new Float32Array(12) } as never)).rejects.toThrow(/must be \{ width, height, data: Uint8Array/);
    await expect(detectFaces({} as never, img)).rejects.toThrow(/detector = an object must be a TinyFaceDetector/);
    const odd = engine.zeros([1, 3, 40, 40]);
    expect(() => net.forward(odd)).toThrow(/input \[1, 3, 40, 40\] must be \[N, 3, S, S\] with S a positive multiple of 32/);
    odd.dispose();
    // An all-zero network scores σ(0) = 0.5 everywhere: nothing passes the strict threshold.
    expect(await detectFaces(net, img, { inputSize: 32 })).toEqual([]);
    net.dispose();
  });
});
