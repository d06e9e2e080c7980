import type { View } from '../backend.js';
import { numel } from './kernels/util.js';

/** Workgroups one dispatch can launch on the 2-D grid (runtime.grid). */
const MAX_WORKGROUPS = 65535 * 65535;

/** Workgroups the kernel launches in its largest dispatch. */
function workgroups(op: string, inputs: readonly View[], output: View, attrs: unknown): number {
  const n = numel(output.shape);
  return Math.ceil(n / 64);
}

/** Why the kernel cannot run at these shapes on this device, or null. Never throws. */
export function supports(device: GPUDevice, op: string, inputs: readonly View[], output: View,
  attrs: unknown): string | null {
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  for (const v of [...inputs, output]) {
    const bytes = v.storage.numel * 4;
    if (bytes > maxBinding) return `a ${bytes}-byte buffer exceeds this device's maxStorageBufferBindingSize (${maxBinding})`;
  }
  const n = Math.max(numel(output.shape), ...inputs.map((v) => numel(v.shape)));
  if (n >= 2 ** 32) return `${n} elements overflow the kernels' 32-bit indices`;
  const wg = workgroups(op, inputs, output, attrs);
  if (wg > MAX_WORKGROUPS) return `${wg} workgroups exceed one dispatch (${MAX_WORKGROUPS})`;
  return null;
}
