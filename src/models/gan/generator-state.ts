/**
 * A generator file from tensors already on the host (docs/gan.md §6): a training checkpoint's
 * weights (the whole GAN, names under 'generator.') with its EMA averages over them, written
 * synchronously while the loop waits, so a running job always leaves a file `inflow gan sample` reads.
 */
import { fail } from '../../engine/errors.js';
import { encodeSafetensors, type NamedArray } from '../../io/safetensors.js';
import type { GanConfig } from './config.js';
import { GAN_GENERATOR_FORMAT } from './gan-file.js';

/** Metadata entry with the class names, in label order (optional; `gan sample` names folders by it). */
export const GAN_CLASS_NAMES_KEY = 'inflow.classNames';

/** The generator's state from a GAN state dict ('generator.' names), its parameters replaced by `ema`'s averages when given. */
export function generatorStateOf(ganState: ReadonlyMap<string, NamedArray>, ema?: ReadonlyMap<string, NamedArray>): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [k, v] of ganState) if (k.startsWith('generator.')) out.set(k.slice('generator.'.length), v);
  if (out.size === 0) fail('generatorStateOf', 'the state holds no generator tensors');
  for (const [k, v] of ema ?? []) {
    if (!out.has(k)) fail('generatorStateOf', `EMA entry '${k}' is no generator tensor`);
    out.set(k, v);
  }
  return out;
}

/** The bytes of a generator file: format, config, optional class names, the generator's tensors. */
export function generatorFileBytes(config: GanConfig, state: ReadonlyMap<string, NamedArray>, classNames?: readonly string[]): Uint8Array {
  return encodeSafetensors(state, {
    ...(classNames ? { [GAN_CLASS_NAMES_KEY]: JSON.stringify(classNames) } : {}),
    'inflow.format': GAN_GENERATOR_FORMAT, 'inflow.config': JSON.stringify(config),
  });
}
