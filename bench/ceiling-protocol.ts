// Messages between the `ceiling` suite (bench/ceiling.ts) and its processes (bench/ceiling-child.ts).
import { fileURLToPath } from 'node:url';
import type { ProgramArgs, ProgramName } from '../src/parallel/programs.js';

export const CEILING_MODELS = {
  flow: fileURLToPath(new URL('../models/finc-mnist.safetensors', import.meta.url)),
  unet: fileURLToPath(new URL('../models/diffusion-mnist.safetensors', import.meta.url)),
};

export type ToChild =
  | { type: 'load'; model: keyof typeof CEILING_MODELS }
  | { type: 'job'; program: ProgramName; args: ProgramArgs[ProgramName]; training: boolean }
  | { type: 'run' }
  | { type: 'exit' };

export type ChildReply =
  | { type: 'ok' }
  | { type: 'done'; ms: number; out: Float32Array | null }
  | { type: 'error'; error: string };
