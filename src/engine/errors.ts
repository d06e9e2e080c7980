/** Every user-facing failure of the engine: a plain Error whose message names the op and the shapes. */
export class InflowError extends Error {
  override name = 'InflowError';
}

export const shapeStr = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function fail(op: string, message: string): never {
  throw new InflowError(`${op}: ${message}`);
}
