import { expect } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import type { BackendUnderTest } from '../helpers/backends.js';
import { runKernel, type HostTensor } from '../helpers/kernels.js';
import { randomArray } from '../helpers/random.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';

export const tensor = (shape: readonly number[], seed: number, lo = -1, hi = 1): HostTensor =>
  ({ shape, data: randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi) });

/** The other backends, each with the one thing a test needs: a runnable backend or the reason it is skipped. */
export function others(list: readonly BackendUnderTest[]): BackendUnderTest[] {
  return list.filter((b) => b.name !== 'reference');
}

export function reference(list: readonly BackendUnderTest[]): Backend {
  return list.find((b) => b.name === 'reference')!.backend!;
}

/**
 * Runs `op` on `backend` and on the float64 reference and holds the result to the shared tolerance
 * table. Inputs are scaled by the tests so every output is a sum of O(1) magnitude.
 */
export async function expectParity(ref: Backend, backend: Backend, op: string,
  inputs: readonly HostTensor[], outShape: readonly number[], attrs: unknown, label: string): Promise<void> {
  const want = await runKernel(ref, op, inputs, outShape, attrs);
  const got = await runKernel(backend, op, inputs, outShape, attrs);
  const bad = worstMismatch(got, want, tolerance[backend.name]);
  expect(bad, `${backend.name} ${op} ${label}`).toBeNull();
}

/** Bit-exact comparison (thread-count invariance). */
export function expectIdentical(a: Float32Array, b: Float32Array, label: string): void {
  expect(a.length, label).toBe(b.length);
  let diff = -1;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) { diff = i; break; }
  expect(diff, `${label}: first differing index`).toBe(-1);
}
