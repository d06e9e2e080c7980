import type { View } from '../../backend.js';
import type { WebGPUStorage } from '../runtime.js';

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const st = (v: View): WebGPUStorage => v.storage as WebGPUStorage;

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
