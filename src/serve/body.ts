/**
 * Structural checks of JSON request bodies. Value checks (temperature, seed, n, labels) are the
 * library's own (src/models/guards.ts), so the server and the library word a mistake alike; these
 * cover what only HTTP has: the body's shape, field names and large number arrays.
 */
import { describeValue, shapeStr } from '../engine/errors.js';
import { badRequest } from './http-error.js';

/** The body (or the part of it `what` names) as a plain object with only `known` fields. */
export function objectBody(op: string, body: unknown, known: readonly string[], what = 'the body'): Record<string, unknown> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(`${op}: ${what} must be a JSON object with ${known.join(', ')}, got ${body === undefined ? 'no body' : describeValue(body)}`);
  for (const k of Object.keys(body))
    if (!known.includes(k)) throw badRequest(`${op}: unknown field ${describeValue(k)} (known: ${known.join(', ')})`);
  return body as Record<string, unknown>;
}

/**
 * A JSON array of numbers in [lo, hi] as float32 (`shift` added to each), refusing the first bad
 * entry by index. JSON cannot carry NaN; 1e999 parses as Infinity, which the range refuses.
 */
export function numberArray(op: string, name: string, v: unknown, lo: number, hi: number, shift = 0): Float32Array {
  if (!Array.isArray(v)) throw badRequest(`${op}: ${name} = ${describeValue(v)} must be an array of numbers`);
  const out = new Float32Array(v.length);
  let first = -1, bad = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as unknown;
    if (typeof x !== 'number') throw badRequest(`${op}: ${name}[${i}] = ${describeValue(x)} must be a number in [${lo}, ${hi}]`);
    if (!(x >= lo && x <= hi)) {
      if (first < 0) first = i;
      bad++;
    }
    out[i] = x + shift;
  }
  if (first >= 0) {
    const others = bad > 1 ? ` (nor are ${bad - 1} other values)` : '';
    throw badRequest(`${op}: ${name}[${first}] = ${describeValue(v[first])} is not in [${lo}, ${hi}]${others}`);
  }
  return out;
}

/**
 * The batch size of `length` values of images shaped `image` ([C, H, W] or a latent's shape),
 * checked against an optional `shape` field [N, ...image].
 */
export function batchOf(op: string, what: string, length: number, image: readonly number[], shape: unknown): number {
  const per = image.reduce((a, b) => a * b, 1);
  if (shape !== undefined) {
    const ok = Array.isArray(shape) && shape.length === image.length + 1 && shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
    if (!ok || image.some((d, i) => (shape as number[])[i + 1] !== d))
      throw badRequest(`${op}: shape = ${Array.isArray(shape) ? shapeStr(shape as number[]) : describeValue(shape)} must be [N, ${image.join(', ')}] for this model`);
    const n = (shape as number[])[0]!;
    if (n * per !== length) throw badRequest(`${op}: shape ${shapeStr(shape as number[])} needs ${n * per} values in ${what}, got ${length}`);
    return n;
  }
  if (length === 0 || length % per !== 0)
    throw badRequest(`${op}: ${length} values in ${what} are not a whole number of ${image.join('×')} images (${per} values each)`);
  return length / per;
}
