import { describeValue, fail } from '../../engine/errors.js';
import { checkBatch, checkUnitRange, type ImageBatch } from '../batch.js';

/** The input contract of every degradation: a well-formed batch with finite values in [−1, 1]. */
export function checkInput(op: string, img: unknown): ImageBatch {
  const b = checkBatch(op, img);
  checkUnitRange(op, b);
  return b;
}

/** A number option: finite and inside [lo, hi] (hi may be Infinity where that means "off"). */
export function checkNumber(op: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < lo || v > hi || (v === Infinity && hi !== Infinity))
    fail(op, `${name} = ${describeValue(v)} must be a number from ${lo} to ${hi === Infinity ? '∞' : hi}`);
  return v;
}

/** A strength: 0 (the identity) to 1 (the strongest setting, docs/degradations.md §4). */
export const checkStrength = (op: string, v: unknown): number => checkNumber(op, 'strength', v, 0, 1);

/** A whole number from 0 to max. */
export function checkCount(op: string, name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(op, `${name} = ${describeValue(v)} must be a whole number from 0 to ${max}`);
  return v;
}

/** An options object (so that reading its fields cannot throw a TypeError). */
export function checkOptions<T>(op: string, opts: T): T {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(op, `options = ${describeValue(opts)} must be an object`);
  return opts;
}
