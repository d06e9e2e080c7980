import { fail } from '../../engine/errors.js';

/**
 * Which WGSL kernels a WebGPU backend runs for matmul and the convolutions: 'simple' (one invocation
 * per output, no barriers: the fast choice on software adapters) or 'tiled' (workgroup-memory tiles,
 * docs/webgpu-kernels.md: the fast choice on GPUs). Every other op has one kernel set.
 */
export type WebGPUKernelSet = 'tiled' | 'simple';

const sets: readonly WebGPUKernelSet[] = ['tiled', 'simple'];

/** The option as given, checked (undefined stays undefined). */
export function checkKernelSet(op: string, value: unknown, source = 'webgpuKernels'): WebGPUKernelSet | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !sets.includes(value as WebGPUKernelSet))
    fail(op, `${source} = ${JSON.stringify(value)} must be 'tiled' or 'simple'`);
  return value as WebGPUKernelSet;
}

/**
 * The kernel set: the option, else INFLOW_WEBGPU_KERNELS (Node; lets a whole test suite run on
 * either set), else simple on a software adapter (or one that cannot be identified) and tiled on a
 * hardware one.
 */
export function resolveKernelSet(option: WebGPUKernelSet | undefined, software: boolean | null): { set: WebGPUKernelSet; why: string } {
  const given = checkKernelSet('createWebGPUBackend', option);
  if (given) return { set: given, why: 'requested' };
  const env = typeof process !== 'undefined' ? process.env?.INFLOW_WEBGPU_KERNELS : undefined;
  const fromEnv = env ? checkKernelSet('createWebGPUBackend', env, 'INFLOW_WEBGPU_KERNELS') : undefined;
  if (fromEnv) return { set: fromEnv, why: 'INFLOW_WEBGPU_KERNELS' };
  if (software === false) return { set: 'tiled', why: 'hardware adapter' };
  return { set: 'simple', why: software ? 'software adapter' : 'adapter unknown' };
}
