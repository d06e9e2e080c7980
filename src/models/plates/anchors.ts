import { Rng } from '../../data/rng.js';
import { fail } from '../../engine/errors.js';
import { centredIou } from './targets.js';

/**
 * k anchor shapes for a set of box sizes (width, height), as YOLOv2 chose its anchors
 * (docs/plates.md §5): k-means with distance 1 − centred IoU, started from k distinct boxes drawn
 * from `seed`, each centre the mean of its members, until no box changes cluster (at most 100
 * rounds). Sorted by area, smallest first.
 */
export function fitAnchors(sizes: readonly (readonly [number, number])[], k: number, seed = 0): [number, number][] {
  if (!Number.isInteger(k) || k < 1) fail('fitAnchors', `k = ${k} must be a positive integer`);
  if (sizes.length < k) fail('fitAnchors', `${sizes.length} boxes cannot make ${k} anchors`);
  const rng = new Rng(seed);
  let centres = rng.shuffle([...sizes.keys()]).slice(0, k).map((i) => [...sizes[i]!] as [number, number]);
  const member = new Int32Array(sizes.length).fill(-1);
  for (let round = 0; round < 100; round++) {
    let changed = false;
    sizes.forEach(([w, h], i) => {
      let best = 0;
      for (let c = 1; c < k; c++) if (centredIou(w, h, ...centres[c]!) > centredIou(w, h, ...centres[best]!)) best = c;
      if (member[i] !== best) { member[i] = best; changed = true; }
    });
    if (!changed) break;
    centres = centres.map((old, c) => {
      let sw = 0, sh = 0, n = 0;
      sizes.forEach(([w, h], i) => { if (member[i] === c) { sw += w; sh += h; n++; } });
      return n ? [sw / n, sh / n] : old;
    });
  }
  return centres.sort((a, b) => a[0] * a[1] - b[0] * b[1]);
}
