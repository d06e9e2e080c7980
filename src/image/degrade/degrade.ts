import { Rng } from '../../data/rng.js';
import { describeValue, fail } from '../../engine/errors.js';
import { imageAt, type ImageBatch } from '../batch.js';
import { toRng, type RngOrSeed } from '../rng-arg.js';
import { checkInput, checkStrength } from './check.js';
import { addCracks } from './cracks.js';
import { defocusBlur } from './defocus-blur.js';
import { fade } from './fading.js';
import { gaussianNoise } from './gaussian-noise.js';
import { jpegArtifacts } from './jpeg.js';
import { motionBlur } from './motion-blur.js';
import { poissonNoise } from './poisson-noise.js';
import { resolutionLoss } from './resolution-loss.js';
import { addScratches } from './scratches.js';

/**
 * Every degradation, in the order randomDegradation applies them: damage to the picture itself
 * (fading, scratches, cracks), then its capture (blur, lost resolution, sensor noise, JPEG).
 */
export const DEGRADATION_KINDS = ['fading', 'scratches', 'cracks', 'defocus-blur', 'motion-blur', 'downsample', 'gaussian-noise', 'poisson-noise', 'jpeg'] as const;
export type DegradationKind = (typeof DEGRADATION_KINDS)[number];

/** The parameters each strength s ∈ (0, 1] stands for (docs/degradations.md §4, table). */
export function degradationSettings(kind: DegradationKind, strength: number): Record<string, number> {
  const s = checkStrength('degradationSettings', strength);
  switch (kind) {
    case 'gaussian-noise': return { sigma: 0.4 * s };
    case 'poisson-noise': return { peak: s === 0 ? Infinity : 16 / (s * s) };
    case 'defocus-blur': return { radius: 3 * s };
    case 'motion-blur': return { length: 10 * s };
    case 'scratches': return { count: Math.ceil(6 * s), width: 1 + 2 * s, opacity: 0.5 + 0.5 * s };
    case 'cracks': return { count: Math.ceil(3 * s), width: 0.8 + 0.7 * s, opacity: 0.6 + 0.4 * s };
    case 'fading': return { amount: s };
    case 'jpeg': return { quality: Math.round(100 - 90 * s) };
    case 'downsample': return { factor: 1 + 3 * s };
    default: return fail('degradationSettings', `unknown degradation ${describeValue(kind)}; the kinds are ${DEGRADATION_KINDS.join(', ')}`);
  }
}

export function checkKind(op: string, kind: unknown): DegradationKind {
  if (!DEGRADATION_KINDS.includes(kind as DegradationKind)) fail(op, `unknown degradation ${describeValue(kind)}; the kinds are ${DEGRADATION_KINDS.join(', ')}`);
  return kind as DegradationKind;
}

/** One image through one degradation with the settings of `strength`; `r` is that image's own generator. */
function degradeOne(img: ImageBatch, kind: DegradationKind, s: number, r: Rng): ImageBatch {
  const p = degradationSettings(kind, s);
  switch (kind) {
    case 'gaussian-noise': return gaussianNoise(img, p.sigma!, r);
    case 'poisson-noise': return poissonNoise(img, p.peak!, r);
    case 'defocus-blur': return defocusBlur(img, p.radius!);
    case 'motion-blur': return motionBlur(img, p.length!, r.uniform() * Math.PI);
    case 'scratches': return addScratches(img, { count: p.count!, width: p.width!, opacity: p.opacity! }, r);
    case 'cracks': return addCracks(img, { count: p.count!, width: p.width!, opacity: p.opacity! }, r);
    case 'fading': return fade(img, p.amount!);
    case 'jpeg': return jpegArtifacts(img, p.quality!);
    case 'downsample': return resolutionLoss(img, p.factor!);
  }
}

/**
 * One degradation at `strength` (0 = the input unchanged, 1 = the strongest setting). Each image
 * of the batch gets its own generator, seeded by the next 32-bit draw of `rng` (motion blur draws
 * its angle, uniform in [0, π), from it).
 */
export function degrade(img: ImageBatch, kind: DegradationKind, strength: number, rng: RngOrSeed): ImageBatch {
  checkInput('degrade', img);
  checkKind('degrade', kind);
  const s = checkStrength('degrade', strength);
  const r = toRng('degrade', rng);
  const [n, c, h, w] = img.shape, size = c * h * w;
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < n; i++) {
    const own = new Rng(r.nextUint32());
    out.set(s === 0 ? img.data.subarray(i * size, (i + 1) * size) : degradeOne(imageAt(img, i), kind, s, own).data, i * size);
  }
  return { data: out, shape: img.shape };
}
