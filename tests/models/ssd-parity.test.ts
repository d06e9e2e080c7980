import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { detectFacesSsd } from '../../src/models/detect/detect-faces-ssd.js';
import { loadSsdMobilenetV1 } from '../../src/models/detect/face-api-weights.js';
import { letterbox } from '../../src/models/detect/letterbox.js';
import { SSD_MOBILENET, SSD_PRIORS, type SsdMobilenetV1 } from '../../src/models/detect/ssd-mobilenet.js';
import { compareFaces, demoPhoto } from '../helpers/face-parity.js';
import { faceApiOracle, type FaceApiOracle } from '../helpers/face-api-oracle.js';

// The Done-when of issue 14 for SSD-MobileNetV1: on face-api's demo photos, inflow's boxes match
// face-api's on tfjs-wasm: same count, IoU ≥ 0.95 per matched face, score within 0.01.
const MIN_IOU = 0.95, MAX_SCORE_DIFF = 0.01;

async function checkParity(engine: Engine, net: SsdMobilenetV1, oracle: FaceApiOracle, photos: number[], width?: number): Promise<number> {
  const before = engine.memory().tensors;
  const rows: string[] = [];
  let faces = 0;
  try {
    for (const i of photos) {
      const img = await demoPhoto(i, width);
      const t0 = performance.now();
      const ours = await detectFacesSsd(net, img);
      const ms = performance.now() - t0;
      const t1 = performance.now();
      const theirs = await oracle.detectSsd(img.data, img.width, img.height);
      const theirMs = performance.now() - t1;
      const { worstIou, worstScore } = compareFaces(ours, theirs);
      faces += theirs.length;
      rows.push(`sample${i} ${img.width}×${img.height}: ${ours.length}/${theirs.length} faces, IoU ≥ ${worstIou.toFixed(6)}, |Δscore| ≤ ${worstScore.toExponential(1)}, ${ms.toFixed(0)} ms (face-api ${theirMs.toFixed(0)} ms)`);
      expect(ours.length, `sample${i} face count`).toBe(theirs.length);
      expect(worstIou, `sample${i} IoU`).toBeGreaterThanOrEqual(MIN_IOU);
      expect(worstScore, `sample${i} score`).toBeLessThanOrEqual(MAX_SCORE_DIFF);
    }
    expect(engine.memory().tensors).toBe(before);
  } finally {
    console.log(`SSD-MobileNetV1 ${engine.name} vs face-api on tfjs-${oracle.backend}:\n  ${rows.join('\n  ')}`);
  }
  return faces;
}

describe('SSD-MobileNetV1 parity with face-api on tfjs-wasm', () => {
  let oracle: FaceApiOracle;
  beforeAll(async () => { oracle = await faceApiOracle('wasm'); });

  it('wasm: all six demo photos at full size', async () => {
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const net = await loadSsdMobilenetV1(engine);
    try {
      // A parity run that finds no faces would prove nothing.
      expect(await checkParity(engine, net, oracle, [1, 2, 3, 4, 5, 6])).toBeGreaterThanOrEqual(10);
    } finally {
      net.dispose();
      engine.dispose();
    }
  }, 120_000);

  it('wasm: the score of every prior box matches tfjs\'s', async () => {
    const engine = await createEngine({ backend: 'wasm', threads: 1 });
    const net = await loadSsdMobilenetV1(engine);
    try {
      const img = await demoPhoto(2);
      const S = SSD_MOBILENET.inputSize;
      const px = letterbox('t', img, S, [0, 0, 0]).data.map((v) => v * 2 - 1);
      const x = engine.tensor(px, [1, 3, S, S]);
      const out = net.forward(x);
      const classes = await out.classes.data();
      expect(out.boxes.shape).toEqual([1, SSD_PRIORS, 4]);
      x.dispose();
      out.boxes.dispose();
      out.classes.dispose();
      const theirs = await oracle.forwardSsd(img.data, img.width, img.height);
      let worst = 0, above = 0;
      for (let p = 0; p < SSD_PRIORS; p++) {
        const ours = 1 / (1 + Math.exp(-classes[p * 3 + 1]!));
        worst = Math.max(worst, Math.abs(ours - theirs.scores[p]!));
        if (theirs.scores[p]! > 0.5) above++;
      }
      console.log(`SSD scores of ${SSD_PRIORS} priors: max |Δ| = ${worst.toExponential(2)} (${above} above 0.5)`);
      expect(worst).toBeLessThan(1e-4);
      expect(above).toBeGreaterThan(0);
    } finally {
      net.dispose();
      engine.dispose();
    }
  }, 60_000);

  /** Demo photo 3 at 640 px on `engine` (freed afterwards): the slow backends' check. */
  const onePhoto = async (engine: Engine): Promise<void> => {
    const net = await loadSsdMobilenetV1(engine);
    try {
      expect(await checkParity(engine, net, oracle, [3], 640)).toBeGreaterThan(0);
    } finally {
      net.dispose();
      engine.dispose();
    }
  };

  // The float64 reference backend needs ≈ 20 s for one 512 × 512 forward pass on a loaded 2-core
  // machine, too slow for every `npm test`; INFLOW_SLOW_PARITY=1 runs it and the webgpu check.
  if (process.env.INFLOW_SLOW_PARITY !== '1')
    console.log('ssd-parity: the reference (≈ 20 s) and SwiftShader webgpu (≈ 60 s) checks are skipped; INFLOW_SLOW_PARITY=1 runs them');
  it.skipIf(process.env.INFLOW_SLOW_PARITY !== '1')('reference: one photo at 640 px', async () => {
    await onePhoto(await createEngine({ backend: 'reference' }));
  }, 300_000);

  // On SwiftShader (no GPU) one forward pass takes 50–75 s on the loaded 2-core machine: slow too.
  it.skipIf(process.env.INFLOW_SLOW_PARITY !== '1')('webgpu: one photo at 640 px', async (ctx) => {
    const engine = await createEngine({ backend: 'webgpu' }).catch((e: unknown) => e instanceof Error ? e : new Error(String(e)));
    if (engine instanceof Error) {
      const why = `WebGPU parity skipped: ${engine.message} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
      if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(why);
      console.warn(why);
      ctx.skip();
      return;
    }
    await onePhoto(engine);
  }, 300_000);
});
