import { describeValue, fail } from '../../engine/errors.js';
import { imageAt, type ImageBatch } from '../batch.js';
import { toRng, type RngOrSeed } from '../rng-arg.js';
import { checkCount, checkInput, checkNumber } from './check.js';
import { checkKind, degrade, DEGRADATION_KINDS, type DegradationKind } from './degrade.js';

export interface RandomDegradationOptions {
  /** The kinds to choose from (default all, DEGRADATION_KINDS). */
  kinds?: readonly DegradationKind[];
  /** At most this many kinds per image (default 3); at least 1 is always applied. */
  maxKinds?: number;
  /** Strengths are uniform in [minStrength, 1] (default 0.1: weaker ones barely change an image). */
  minStrength?: number;
}

/** One step applied to one image; degrade(that image, kind, strength, seed) repeats it exactly. */
export interface DegradationRecord {
  kind: DegradationKind;
  strength: number;
  seed: number;
}

/**
 * The unified fine-tuning's training input (docs/degradations.md §5): every image independently
 * gets 1…maxKinds distinct kinds, each at a uniform random strength, applied in the order of
 * DEGRADATION_KINDS. Returns the degraded batch and, per image, what was applied in that order.
 */
export function randomDegradation(img: ImageBatch, rng: RngOrSeed, opts: RandomDegradationOptions = {}): { image: ImageBatch; applied: DegradationRecord[][] } {
  checkInput('randomDegradation', img);
  if (opts === null || typeof opts !== 'object') fail('randomDegradation', `options = ${describeValue(opts)} must be an object`);
  const kinds = opts.kinds ?? DEGRADATION_KINDS;
  if (!Array.isArray(kinds) || kinds.length === 0) fail('randomDegradation', `kinds = ${describeValue(kinds)} must be a non-empty list of degradation kinds`);
  kinds.forEach((k) => checkKind('randomDegradation', k));
  const chosenFrom = DEGRADATION_KINDS.filter((k) => kinds.includes(k));
  const maxKinds = Math.min(chosenFrom.length, checkCount('randomDegradation', 'maxKinds', opts.maxKinds ?? 3, DEGRADATION_KINDS.length));
  if (maxKinds < 1) fail('randomDegradation', 'maxKinds = 0: at least one degradation must be allowed');
  const minStrength = checkNumber('randomDegradation', 'minStrength', opts.minStrength ?? 0.1, 0, 1);
  const r = toRng('randomDegradation', rng);
  const [n, c, h, w] = img.shape, size = c * h * w;
  const out = new Float32Array(img.data.length);
  const applied: DegradationRecord[][] = [];
  for (let i = 0; i < n; i++) {
    const howMany = 1 + r.below(maxKinds);
    const picked = new Set(r.shuffle([...chosenFrom]).slice(0, howMany));
    const steps: DegradationRecord[] = [];
    let one = imageAt(img, i);
    for (const kind of chosenFrom) {
      if (!picked.has(kind)) continue;
      const strength = minStrength + (1 - minStrength) * r.uniform(), seed = r.nextUint32();
      one = degrade(one, kind, strength, seed);
      steps.push({ kind, strength, seed });
    }
    out.set(one.data, i * size);
    applied.push(steps);
  }
  return { image: { data: out, shape: img.shape }, applied };
}
