/** Every user-facing failure of the engine: a plain Error whose message names the op and the shapes. */
export class InflowError extends Error {
  override name = 'InflowError';
}

export const shapeStr = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function fail(op: string, message: string): never {
  throw new InflowError(`${op}: ${message}`);
}

/**
 * A value as a one-line error shows it: numbers and strings as written (strings quoted), anything
 * else by kind, so a message never reads "[object Object]" or a page of JSON.
 */
export function describeValue(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'function') return 'a function';
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
}
