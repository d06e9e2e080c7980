// The bundled colour inpainter (models/inpaint-photos.safetensors, docs/anonymize.md §4.1) on
// held-out photo patches: it must fill better than the mean colour of the known pixels, on the
// very masks `inflow diffuse eval` draws. Needs the skimage photos (node scripts/fetch-photos.mjs).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPhotoDir, loadPhotoPatches, missingPhotos, PHOTO_PATCHES } from '../../src/data/photos.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { datasetBatch } from '../../src/image/range.js';
import { blurFill, meanColourFill } from '../../src/models/diffusion/blur-fill.js';
import { loadDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import type { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { MaskedAccumulator } from '../../src/models/diffusion/eval-metrics.js';
import { evalInpainting } from '../../src/models/diffusion/eval-inpaint.js';
import { randomInpaintMask } from '../../src/models/diffusion/masks.js';

const missing = missingPhotos();
if (missing.length && process.env.INFLOW_REQUIRE_PHOTOS === '1')
  throw new Error(`INFLOW_REQUIRE_PHOTOS=1 but ${missing.length} photos are missing from ${defaultPhotoDir()}; run: node scripts/fetch-photos.mjs`);
if (missing.length) console.warn(`bundled inpainter test skipped: the photos are not in ${defaultPhotoDir()} (run: node scripts/fetch-photos.mjs; CI does)`);

let engine: Engine, model: DiffusionModel;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  model = loadDiffusionModel(fileURLToPath(new URL('../../models/inpaint-photos.safetensors', import.meta.url)), { engine });
});
afterAll(() => {
  model?.dispose();
  engine?.dispose();
});

describe('models/inpaint-photos.safetensors', () => {
  it('is a mask-conditioned v-prediction model of 3 × 32 × 32 photo patches', () => {
    expect(model.config.conditioning).toMatchObject({ task: 'inpainting', channels: 4 });
    expect([model.prediction, ...model.imageShape]).toEqual(['v', 3, 32, 32]);
  });

  it.skipIf(missing.length > 0)('fills held-out patches better than their mean colour, on eval\'s own masks', async () => {
    const n = 24, set = await loadPhotoPatches({ split: 'test', count: PHOTO_PATCHES.test, shape: [3, 32, 32] });
    const img = datasetBatch(set, [...Array(n).keys()]);
    const r = await evalInpainting(model, img, { n, seed: 0 });
    // The masks evalInpainting drew (its seed rule, src/models/diffusion/eval-inpaint.ts), filled by the mean colour.
    const masks = randomInpaintMask(n, 32, 32, (0 ^ 0x5bd1e995) >>> 0);
    const score = (data: Float32Array) => { const a = new MaskedAccumulator(); a.add({ data, shape: img.shape }, img, masks); return a.result().psnr; };
    expect(score(blurFill(img, masks).data)).toBeCloseTo(r.blurFill.psnr, 6);   // the same masks
    const mean = score(meanColourFill(img, masks).data);
    expect(r.model.psnr, `model ${r.model.psnr.toFixed(2)} dB, mean colour ${mean.toFixed(2)} dB`).toBeGreaterThan(mean + 0.5);
  }, 120_000);
});
