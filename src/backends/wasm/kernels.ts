import type { KernelTable } from '../backend.js';
import type { KernelContext } from './context.js';

export type { KernelContext } from './context.js';

export function wasmKernels(_ctx: KernelContext): KernelTable {
  return {};
}
