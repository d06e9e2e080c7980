import { fail } from '../../engine/errors.js';
import { DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { randomDegradation } from '../../image/degrade/random.js';
import type { Conditioner } from '../paired-data.js';

/**
 * Restoration (docs/diffusion.md, "Training the tasks"): each target's condition is the target
 * through randomDegradation (docs/degradations.md §5) with the given kinds, drawn from the run's
 * RNG, so every step sees fresh damage and a resumed run the same. All kinds: the unified model of
 * the art-restoration work; one kind: a specialist.
 */
export function restorationConditioner(shape: readonly [number, number, number], kinds: readonly DegradationKind[] = DEGRADATION_KINDS): Conditioner {
  if (!kinds.length) fail('restorationConditioner', 'kinds must list at least one degradation');
  const [C, H, W] = shape, list = [...kinds];
  return {
    shape: [C, H, W],
    make: (indices, targets, rng) => randomDegradation({ data: targets, shape: [indices.length, C, H, W] }, rng, { kinds: list }).image.data,
  };
}
