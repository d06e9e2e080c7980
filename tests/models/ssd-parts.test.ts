import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { decodeTfjsWeights, parseTfjsManifest, type TfjsWeight } from '../../src/io/tfjs-manifest.js';
import { detectFacesSsd, ssdMobilenetV1FromTfjs } from '../../src/models/detect/detect-faces-ssd.js';
import { decodeSsd } from '../../src/models/detect/ssd-decode.js';
import { SSD_MOBILENET, SSD_PRIORS, SsdMobilenetV1 } from '../../src/models/detect/ssd-mobilenet.js';
import { faceApiModels } from '../helpers/face-api-oracle.js';

const engine = await createEngine({ backend: 'wasm', threads: 1 });
afterAll(() => engine.dispose());

const logit = (p: number): number => Math.log(p / (1 - p));
const faceWeights = (): Map<string, TfjsWeight> => decodeTfjsWeights(parseTfjsManifest(readFileSync(join(faceApiModels, SSD_MOBILENET.manifest), 'utf8')),
  [[new Uint8Array(readFileSync(join(faceApiModels, 'ssd_mobilenetv1_model.bin')))]]);

describe('SSD-MobileNetV1 parts', () => {
  it('decodes boxes with the variances, suppresses, caps and clips as face-api', () => {
    // Priors (y0, x0, y1, x1), encodings (t_y, t_x, t_h, t_w), face probability.
    const rows: [number[], number[], number][] = [
      [[0.2, 0.3, 0.6, 0.5], [1, -2, 5 * Math.LN2, 0], 0.9], // centre (0.44, 0.36), size 0.8 × 0.2
      [[0.2, 0.3, 0.6, 0.5], [0, 0, 0, 0], 0.8], // the prior itself: IoU 0.36 with row 0, kept
      [[0.2, 0.3, 0.6, 0.5], [1, -2, 5 * Math.LN2, 0.1], 0.85], // nearly row 0: suppressed
      [[-0.1, 0.9, 0.3, 1.2], [0, 0, 0, 0], 0.7], // reaches past the square: clipped
      [[0.7, 0.1, 0.9, 0.2], [0, 0, 0, 0], 0.5], // exactly the threshold: dropped
      [[0.7, 0.6, 0.9, 0.8], [0, 0, 0, 0], 0.6], // equal scores, IoU 0.82: the earlier prior wins
      [[0.7, 0.6, 0.9, 0.8], [0, 0.5, 0, 0], 0.6],
    ];
    const priors = new Float32Array(rows.flatMap((r) => r[0]));
    const boxes = new Float32Array(rows.flatMap((r) => r[1]));
    const classes = new Float32Array(rows.flatMap((r) => [0, logit(r[2]), 0]));
    // A 1000 × 500 photo in a 512 square: x spans 512/512 of it, y 256/512, so both scale by 1000.
    const opts = { minConfidence: 0.5, maxResults: 100, iouThreshold: 0.5, input: { size: 512, inner: { width: 512, height: 256 } }, image: { width: 1000, height: 500 } };
    const out = decodeSsd(boxes, classes, priors, opts);
    expect(out.map((d) => Number(d.score.toFixed(6)))).toEqual([0.9, 0.8, 0.7, 0.6]);
    const px = (v: number) => Number(v.toFixed(3));
    expect(Object.values(out[0]!.box).map(px)).toEqual([260, 40, 200, 800]);
    expect(Object.values(out[1]!.box).map(px)).toEqual([300, 200, 200, 400]);
    expect(Object.values(out[2]!.box).map(px)).toEqual([900, 0, 100, 300]);
    expect(Object.values(out[3]!.box).map(px)).toEqual([600, 700, 200, 200]);
    expect(decodeSsd(boxes, classes, priors, { ...opts, maxResults: 2 })).toEqual(out.slice(0, 2));
    // With no suppression every box above the threshold survives.
    expect(decodeSsd(boxes, classes, priors, { ...opts, iouThreshold: 1 })).toHaveLength(6);
  });

  it('loads face-api\'s weights with the batch norms folded, and refuses wrong ones in one line', async () => {
    const w = faceWeights();
    const net = ssdMobilenetV1FromTfjs(engine, w, 'ssd.json');
    // The two float32 Preprocessor/ scalars are the original graph's input scaling, which face-api does in code.
    const floats = [...w.entries()].filter(([k, v]) => v.dtype === 'float32' && !k.startsWith('Preprocessor/')).reduce((s, [, v]) => s + v.data.length, 0);
    // Four batch-norm vectors per block become one bias; the priors are not parameters.
    const bnFolded = SSD_MOBILENET.channels.slice(0, 13).reduce((s, c) => s + 3 * c, 0);
    expect(net.paramCount()).toBe(floats - bnFolded - SSD_PRIORS * 4);
    expect(net.priors).toEqual(w.get('Output/extra_dim')!.data);
    const x = engine.tensor(new Float32Array(3 * 64 * 64), [1, 3, 64, 64]);
    expect(() => net.forward(x)).toThrow(/^SsdMobilenetV1: input \[1, 3, 64, 64\] must be \[N, 3, 512, 512\]$/);
    x.dispose();
    const img = { width: 4, height: 4, data: new Uint8Array(48) };
    await expect(detectFacesSsd(net, img, { minConfidence: 1 })).rejects.toThrow(/^detectFacesSsd: minConfidence = 1 must be a number between 0 and 1$/);
    await expect(detectFacesSsd(net, img, { maxResults: 0 })).rejects.toThrow(/^detectFacesSsd: maxResults = 0 must be a positive integer$/);
    await expect(detectFacesSsd(net, img, { iouThreshold: -1 })).rejects.toThrow(/^detectFacesSsd: iouThreshold = -1 must be a number from 0 to 1$/);
    await expect(detectFacesSsd(net, img, { inputSize: 416 } as never)).rejects.toThrow(/^detectFacesSsd: unknown option 'inputSize'/);
    await expect(detectFacesSsd(net, { width: 4, height: 4, data: new Uint8Array(5) })).rejects.toThrow(/^detectFacesSsd: image has 5 bytes for 4×4 pixels: it must be RGB or RGBA$/);
    await expect(detectFacesSsd({} as never, img)).rejects.toThrow(/^detectFacesSsd: detector = an object must be an SsdMobilenetV1/);
    net.dispose();
    await expect(detectFacesSsd(net, img)).rejects.toThrow(/^SsdMobilenetV1: the SsdMobilenetV1 was disposed/);

    const before = engine.memory().tensors;
    w.set('extra/bias', { shape: [1], dtype: 'float32', data: new Float32Array(1) });
    expect(() => ssdMobilenetV1FromTfjs(engine, w, 'x.json')).toThrow(/^x.json: holds weights this model does not use: extra\/bias/);
    w.delete('extra/bias');
    w.set('Output/extra_dim', { shape: [1, 100, 4], dtype: 'float32', data: new Float32Array(400) });
    expect(() => ssdMobilenetV1FromTfjs(engine, w, 'x.json')).toThrow(/^x.json: 'Output\/extra_dim' has shape \[1, 100, 4\], not \[1, 5118, 4\]/);
    w.delete('MobilenetV1/Conv2d_3_depthwise/BatchNorm/gamma');
    expect(() => ssdMobilenetV1FromTfjs(engine, w, 'x.json')).toThrow(/^x.json: no weight 'MobilenetV1\/Conv2d_3_depthwise\/BatchNorm\/gamma'/);
    expect(engine.memory().tensors).toBe(before);
    expect(new SsdMobilenetV1(engine).priors).toHaveLength(SSD_PRIORS * 4);
  });
});
