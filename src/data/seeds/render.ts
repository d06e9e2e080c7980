import { Rng } from '../rng.js';
import type { SeedClass, SeedView } from './classes.js';
import { breakDepth, distanceToCrack, randomDefects } from './defects.js';
import { outline, randomShape, toKernel } from './kernel-shape.js';
import { clamp01, smooth, valueNoise } from './noise.js';

type RGB = [number, number, number];

const lerp = (x: number, y: number, t: number): number => x + (y - x) * t;
const mix = (c: RGB, d: readonly number[], t: number): void => {
  for (let k = 0; k < 3; k++) c[k] = lerp(c[k]!, d[k]!, t);
};

/**
 * One seed photograph, size × size, planar RGB bytes (C × H × W). Everything comes from `rng`, so
 * the same generator state always gives the same image. Drawn at twice the size and averaged 2 × 2,
 * so outlines and one-pixel cracks are anti-aliased rather than jagged.
 */
export function renderSeed(rng: Rng, cls: SeedClass, view: SeedView, size: number): Uint8Array {
  const shape = randomShape(rng);
  const defects = randomDefects(rng, cls, shape);
  const mottle = valueNoise(rng, 5), grain = valueNoise(rng, 14), light = valueNoise(rng, 2);
  const bgBase = 196 + 28 * rng.uniform();
  const bgTint: RGB = [bgBase + 6 * (rng.uniform() - 0.5), bgBase + 6 * (rng.uniform() - 0.5), bgBase + 4 + 8 * (rng.uniform() - 0.5)];
  // Kernel colours: orange-yellow at the crown, paler at the tip cap; a little per-seed variation.
  const hue = rng.uniform() - 0.5;
  const crown: RGB = [232 + 12 * hue, 158 + 30 * hue, 32 + 20 * hue];
  const tip: RGB = [242, 206 + 10 * hue, 120 + 20 * hue];
  const germ: RGB = [250, 232, 170];
  // The germ sits on the top face, towards the tip.
  const germU = -0.2 + 0.15 * (rng.uniform() - 0.5), germLen = 0.48 + 0.1 * rng.uniform(), germWid = 0.36 + 0.08 * rng.uniform();
  const crackWidth = 1.1 / size + 0.006;
  const R = 2 * size;
  const hi = new Float32Array(3 * R * R);
  const c: RGB = [0, 0, 0];
  for (let py = 0; py < R; py++) {
    for (let px = 0; px < R; px++) {
      const x = ((px + 0.5) / R) * 2 - 1, y = ((py + 0.5) / R) * 2 - 1;
      const { u, v, a, b } = toKernel(shape, x, y);
      const f = outline(shape, u, v) * (1 + 0.03 * grain(x / 2 + 0.5, y / 2 + 0.5));
      const depth = breakDepth(defects, a, b);
      const inside = f < 1 && depth > 0;
      const fine = 2 * (rng.uniform() - 0.5);
      if (!inside) {
        const shade = 1 + 0.04 * light((x + 1) / 2, (y + 1) / 2) - (f < 1.35 && depth > 0 ? 0.06 * (1.35 - f) / 0.35 : 0);
        for (let k = 0; k < 3; k++) c[k] = bgTint[k]! * shade + 3 * fine;
      } else {
        const t = smooth(clamp01((u + 1) / 2));
        for (let k = 0; k < 3; k++) c[k] = lerp(tip[k]!, crown[k]!, t);
        if (view === 'top') {
          const g = ((u - germU) / germLen) ** 2 + (v / germWid) ** 2;
          if (g < 1) mix(c, germ, 0.75 * smooth(clamp01((1 - g) / 0.35)));
          else if (g < 1.25) mix(c, [200, 140, 40], 0.25 * (1 - (g - 1) / 0.25));
        } else mix(c, [215, 130, 25], 0.15);
        if (defects.dull > 0) mix(c, [150, 125, 90], defects.dull);
        for (const s of defects.blotches) {
          const dist = Math.hypot(a - s.a, b - s.b) / s.r;
          if (dist < 1) mix(c, s.rgb, s.strength * smooth(clamp01((1 - dist) / 0.5)) * (0.75 + 0.25 * mottle((a + 1) / 2, (b + 1) / 2)));
        }
        if (depth < 0.09) mix(c, [246, 242, 226], 0.85 * (1 - depth / 0.09));
        for (const crack of defects.cracks) {
          const dist = distanceToCrack(crack, a, b) * shape.halfLength;
          if (dist < crackWidth) mix(c, [58, 36, 20], 0.92 * (1 - (dist / crackWidth) ** 2));
        }
        // Rounded body: darker towards the outline; mottling and grain for the pericarp texture.
        const shade = (0.7 + 0.3 * Math.sqrt(clamp01(1 - f))) * (1 + 0.05 * mottle((u + 1) / 2, (v + 1) / 2));
        for (let k = 0; k < 3; k++) c[k] = c[k]! * shade + 6 * fine + 4 * grain((u + 1) / 2, (v + 1) / 2);
      }
      for (let k = 0; k < 3; k++) hi[(k * R + py) * R + px] = c[k]!;
    }
  }
  const out = new Uint8Array(3 * size * size);
  for (let k = 0; k < 3; k++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = (k * R + 2 * y) * R + 2 * x;
        out[(k * size + y) * size + x] = Math.max(0, Math.min(255, Math.round((hi[i]! + hi[i + 1]! + hi[i + R]! + hi[i + R + 1]!) / 4)));
      }
  return out;
}

/**
 * The generator state of image `index` of stream `stream` (0 training, 1 held-out) under `seed`.
 * Each word is a bijective 32-bit mix of a different input, so two images differ in at least one
 * word and never share a stream; images can be drawn in any order or in parallel.
 */
export function imageRng(seed: number, stream: number, index: number): Rng {
  const rng = new Rng([mix32(seed), mix32(stream ^ 0x5eed5eed), mix32(index), (mix32((seed + index) ^ 0x9e3779b9) | 1) >>> 0]);
  for (let i = 0; i < 8; i++) rng.nextUint32();
  return rng;
}

function mix32(x: number): number {
  let t = x >>> 0;
  t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
  t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
  return (t ^ (t >>> 16)) >>> 0;
}
