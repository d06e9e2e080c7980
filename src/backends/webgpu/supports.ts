import type { View } from '../backend.js';
import { numel } from '../../engine/shape.js';

/** Workgroups one dispatch can launch on the 2-D grid (runtime.grid). */
const MAX_WORKGROUPS = 65535 * 65535;

/**
 * Limits every WebGPU kernel shares, or null: buffer bindings, 32-bit indices, and one-invocation-
 * per-element dispatches of 64-wide workgroups. A kernel with another launch shape states its own
 * limit in its op file's `supports`. Never throws.
 */
export function supports(device: GPUDevice, inputs: readonly View[], output: View): string | null {
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  for (const v of [...inputs, output]) {
    const bytes = v.storage.numel * 4;
    if (bytes > maxBinding) return `a ${bytes}-byte buffer exceeds this device's maxStorageBufferBindingSize (${maxBinding})`;
  }
  const n = Math.max(numel(output.shape), ...inputs.map((v) => numel(v.shape)));
  if (n >= 2 ** 32) return `${n} elements overflow the kernels' 32-bit indices`;
  const wg = Math.ceil(numel(output.shape) / 64);
  if (wg > MAX_WORKGROUPS) return `${wg} workgroups exceed one dispatch (${MAX_WORKGROUPS})`;
  return null;
}
