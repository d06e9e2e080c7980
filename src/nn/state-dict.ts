import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import type { LoadStateOptions, Module, StateDict } from './module.js';

/** A state dict (plus string metadata) as safetensors bytes: one F32 tensor per entry, named as in the dict. */
export function encodeStateDict(state: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  return encodeSafetensors(state, metadata);
}

/** Parses safetensors bytes into a state dict; `source` names the file in errors. */
export function decodeStateDict(bytes: Uint8Array, source = 'state dict'): { state: StateDict; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  return { state: tensors, metadata };
}

/** A module's parameters and buffers as safetensors bytes (write them with io/atomic-write in Node). */
export async function toSafetensors(module: Module, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return encodeStateDict(await module.stateDict(), metadata);
}

/** Loads safetensors bytes into a module (strict by default, see loadStateDict); returns the file's metadata. */
export function loadSafetensors(module: Module, bytes: Uint8Array, opts: LoadStateOptions & { source?: string } = {}): Record<string, string> {
  const { state, metadata } = decodeStateDict(bytes, opts.source);
  module.loadStateDict(state, opts);
  return metadata;
}
