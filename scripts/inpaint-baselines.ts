// Classical fills scored on the very patches and masks `inflow diffuse eval --data photos` uses for an
// inpainting model (docs/anonymize.md §4), so the learned fill's PSNR has the anonymizer's own
// baselines beside it, not only eval's blur fill:
//   nice -n 19 node --import tsx scripts/inpaint-baselines.ts [--n 200] [--seed 0] [--size 32] [--radius 3] [--out file.json]
// Rows: the blur fill of eval (its figure must equal eval's, which checks that the masks are the
// same), the anonymizer's telea fill, and the mean colour of the known pixels. PSNR inside the mask,
// pooled, 0…255, as eval reports it.
import { parseArgs } from 'node:util';
import { fillTelea } from '../src/anonymize/fill-telea.js';
import { loadPhotoPatches, PHOTO_PATCHES } from '../src/data/photos.js';
import { datasetBatch } from '../src/image/range.js';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { blurFill, meanColourFill } from '../src/models/diffusion/blur-fill.js';
import { MaskedAccumulator } from '../src/models/diffusion/eval-metrics.js';
import { randomInpaintMask } from '../src/models/diffusion/masks.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '200' }, seed: { type: 'string', default: '0' }, size: { type: 'string', default: '32' },
    radius: { type: 'string', default: '3' }, out: { type: 'string' }, help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  console.log('scripts/inpaint-baselines.ts [--n 200] [--seed 0] [--size 32] [--radius 3] [--out file.json]: blur, telea and mean-colour fills of eval\'s random masks on held-out colour photo patches, PSNR inside the mask');
  process.exit(0);
}
const n = Number(a.n), seed = Number(a.seed), S = Number(a.size), radius = Number(a.radius);
for (const [k, v] of [['--n', n], ['--size', S], ['--radius', radius]] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`${k} ${v} must be a positive integer`);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed ${seed} must be a non-negative integer`);
if (n > PHOTO_PATCHES.test) throw new Error(`--n ${n} is more than the ${PHOTO_PATCHES.test} held-out patches`);

// `inflow diffuse eval` takes the first n of the documented held-out set and seeds its masks with
// (seed ^ 0x5bd1e995) (src/models/diffusion/eval-inpaint.ts); the blur row checks the two agree.
const set = await loadPhotoPatches({ split: 'test', count: PHOTO_PATCHES.test, shape: [3, S, S] });
const img = datasetBatch(set, [...Array(n).keys()]);
const plane = S * S;
const masks = randomInpaintMask(n, S, S, (seed ^ 0x5bd1e995) >>> 0);

const telea = new Float32Array(img.data.length);
for (let i = 0; i < n; i++) {
  const bytes = new Uint8Array(3 * plane), hole = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) {
    hole[p] = masks[i * plane + p] ? 1 : 0;
    for (let c = 0; c < 3; c++) bytes[p * 3 + c] = set.images[i * 3 * plane + c * plane + p]!;
  }
  fillTelea({ width: S, height: S, channels: 3, data: bytes }, { x0: 0, y0: 0, x1: S, y1: S, hole, rects: [] }, radius);
  for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) telea[(i * 3 + c) * plane + p] = bytes[p * 3 + c]! / 127.5 - 1;
}
const score = (data: Float32Array) => {
  const acc = new MaskedAccumulator();
  acc.add({ data, shape: img.shape }, img, masks);
  return acc.result();
};
const rows = { blurFill: score(blurFill(img, masks).data), telea: score(telea), meanColour: score(meanColourFill(img, masks).data) };
for (const [k, r] of Object.entries(rows)) console.log(`${k.padEnd(10)} PSNR inside the mask ${r.psnr.toFixed(2)} dB (coverage ${(100 * r.coverage).toFixed(1)} %)`);
if (a.out) writeFileAtomic(a.out, new TextEncoder().encode(`${JSON.stringify({ n, seed, size: S, radius, ...rows }, null, 2)}\n`));
