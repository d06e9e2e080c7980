import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { detectFaces } from '../../src/models/detect/detect-faces.js';
import { loadTinyFaceDetector } from '../../src/models/detect/face-api-weights.js';
import { letterbox } from '../../src/models/detect/letterbox.js';
import { TINY_FACE } from '../../src/models/detect/tiny-face-detector.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import { compareFaces, demoPhoto } from '../helpers/face-parity.js';
import { faceApiOracle, faceApiSample, type FaceApiOracle } from '../helpers/face-api-oracle.js';

// The Done-when of issue 14 for TinyFaceDetector: on face-api's demo photos, inflow's boxes match
// face-api's on tfjs-wasm: same count, IoU ≥ 0.95 per matched face, score within 0.01.
const MIN_IOU = 0.95, MAX_SCORE_DIFF = 0.01;

async function checkParity(engine: Engine, oracle: FaceApiOracle, photos: number[], inputSize: number, width?: number) {
  const net = await loadTinyFaceDetector(engine);
  const before = engine.memory().tensors;
  const rows: string[] = [];
  try {
    for (const i of photos) {
      const img = await demoPhoto(i, width);
      const ours = await detectFaces(net, img, { inputSize });
      const theirs = await oracle.detect(img.data, img.width, img.height, inputSize);
      const { worstIou, worstScore } = compareFaces(ours, theirs);
      rows.push(`sample${i} ${img.width}×${img.height}: ${ours.length}/${theirs.length} faces, IoU ≥ ${worstIou.toFixed(5)}, |Δscore| ≤ ${worstScore.toExponential(1)}`);
      expect(ours.length, `sample${i} face count`).toBe(theirs.length);
      expect(worstIou, `sample${i} IoU`).toBeGreaterThanOrEqual(MIN_IOU);
      expect(worstScore, `sample${i} score`).toBeLessThanOrEqual(MAX_SCORE_DIFF);
    }
    expect(engine.memory().tensors).toBe(before);
  } finally {
    net.dispose();
    console.log(`TinyFaceDetector ${engine.name} at ${inputSize} vs face-api on tfjs-${oracle.backend}:\n  ${rows.join('\n  ')}`);
  }
  return rows;
}

describe('TinyFaceDetector parity with face-api on tfjs-wasm', () => {
  let oracle: FaceApiOracle;
  beforeAll(async () => { oracle = await faceApiOracle('wasm'); });

  it('wasm: all six demo photos at full size, input 416', async () => {
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    try {
      const rows = await checkParity(engine, oracle, [1, 2, 3, 4, 5, 6], 416);
      // The photos hold 20 faces at 416; a parity run that finds none would prove nothing.
      expect(rows.reduce((s, r) => s + Number(/: (\d+)\//.exec(r)![1]), 0)).toBeGreaterThanOrEqual(10);
    } finally {
      engine.dispose();
    }
  });

  it('wasm: the raw output grid matches tfjs\'s within the wasm tolerance', async () => {
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const net = await loadTinyFaceDetector(engine);
    try {
      // A photo already at 416 × 416: no letterboxing on either side, only the network differs.
      const S = 416, G = S / 32;
      const rgb = new Uint8Array(await sharp(faceApiSample(1)).removeAlpha().resize(S, S, { fit: 'fill' }).raw().toBuffer());
      const x = engine.tensor(letterbox('t', { width: S, height: S, data: rgb }, S, TINY_FACE.meanRgb).data, [1, 3, S, S]);
      const y = net.forward(x);
      const ours = await y.data();
      x.dispose();
      y.dispose();
      const nhwc = await oracle.forward(rgb, S);
      const theirs = new Float32Array(nhwc.length);
      for (let c = 0; c < 25; c++) for (let p = 0; p < G * G; p++) theirs[c * G * G + p] = nhwc[p * 25 + c]!;
      expect(worstMismatch(ours, theirs, tolerance.wasm)).toBeNull();
      // The grid is not trivially small: its logits reach well past ±1.
      expect(Math.max(...theirs.map(Math.abs))).toBeGreaterThan(5);
    } finally {
      net.dispose();
      engine.dispose();
    }
  });

  it('reference: one photo at 640 px, input 256', async () => {
    const engine = await createEngine({ backend: 'reference' });
    try {
      await checkParity(engine, oracle, [3], 256, 640);
    } finally {
      engine.dispose();
    }
  });

  describe('webgpu', () => {
    const gpu = createEngine({ backend: 'webgpu' }).catch((e: unknown) => e instanceof Error ? e : new Error(String(e)));
    afterAll(async () => { const e = await gpu; if (!(e instanceof Error)) e.dispose(); });

    it('one photo at 640 px, input 256', async (ctx) => {
      const engine = await gpu;
      if (engine instanceof Error) {
        const why = `WebGPU parity skipped: ${engine.message} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
        if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(why);
        console.warn(why);
        ctx.skip();
        return;
      }
      await checkParity(engine, oracle, [3], 256, 640);
    });
  });
});
