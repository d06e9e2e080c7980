import type { Rng } from '../rng.js';

/**
 * The outline of one maize kernel, in its own frame: u runs along the long axis from the tip
 * (u = −1, narrow, where the kernel sat on the cob) to the crown (u = +1, broad and flattish), v
 * across it, scaled so the widest point is |v| = 1. A dent-corn kernel is a rounded wedge ("tooth"),
 * so the half-width grows from tipWidth at the tip to 1 at the crown, and the crown end uses a
 * higher power than the tip to look squarer.
 */
export interface KernelShape {
  /** Centre in image coordinates ([-1, 1] both ways). */
  cx: number;
  cy: number;
  /** Rotation from upright (crown up), radians. */
  angle: number;
  /** Half-length and half-width at the crown, in image coordinates. */
  halfLength: number;
  halfWidth: number;
  tipWidth: number;
  crownPower: number;
}

/** Slight random pose and proportions: every kernel differs a little, none leaves the frame. */
export function randomShape(rng: Rng): KernelShape {
  const scale = 0.85 + 0.2 * rng.uniform();
  return {
    cx: 0.16 * (rng.uniform() - 0.5),
    cy: 0.16 * (rng.uniform() - 0.5),
    angle: 0.7 * (rng.uniform() - 0.5),
    halfLength: 0.74 * scale,
    halfWidth: 0.74 * scale * (0.6 + 0.14 * rng.uniform()),
    tipWidth: 0.32 + 0.14 * rng.uniform(),
    crownPower: 3 + 2 * rng.uniform(),
  };
}

/** Image point → kernel frame: [u, v], plus (a, b), the same point in units of the half-length but unstretched (for round blotches and cuts). */
export function toKernel(s: KernelShape, x: number, y: number): { u: number; v: number; a: number; b: number } {
  const dx = x - s.cx, dy = y - s.cy, c = Math.cos(s.angle), sn = Math.sin(s.angle);
  const across = c * dx + sn * dy, along = -(-sn * dx + c * dy);
  return { u: along / s.halfLength, v: across / s.halfWidth, a: across / s.halfLength, b: along / s.halfLength };
}

/** The implicit outline: below 1 inside the kernel, 1 on the edge, growing outside. */
export function outline(s: KernelShape, u: number, v: number): number {
  const t = Math.min(Math.max((u + 1) / 2, 0), 1);
  const width = s.tipWidth + (1 - s.tipWidth) * Math.pow(t, 0.8);
  const p = u > 0 ? s.crownPower : 2.2;
  return Math.pow(Math.abs(v) / width, 2.4) + Math.pow(Math.abs(u), p);
}

/** The kernel-frame point (a, b) where a ray from the centre at angle phi leaves the outline (for chips and crack ends). */
export function edgePoint(s: KernelShape, phi: number): [number, number] {
  const ratio = s.halfWidth / s.halfLength;
  let r = 0;
  while (r < 2 && outline(s, r * Math.sin(phi), (r * Math.cos(phi)) / ratio) < 1) r += 0.01;
  return [r * Math.cos(phi), r * Math.sin(phi)];
}
