import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../io/safetensors.js';

/** Everything besides tensors that a resumed run needs to continue exactly like an uninterrupted one. */
export interface TrainState {
  step: number;
  epoch: number;
  /** Position inside the current epoch's order. */
  cursor: number;
  /** The current epoch's data order (indices into the training set). */
  order: number[];
  rng: { words: number[]; spare: number | null };
  /** Steps of the first (or only) optimizer group. */
  optimizerSteps: number;
  /** Steps of every optimizer group, by group name (checkpoints of the generic loop). */
  optimizers?: Record<string, number>;
  /** Updates of the task's EMA, when it keeps one. */
  emaUpdates?: number;
  /** Loss sum and count of the current epoch's good steps (for the epoch's mean loss). */
  epochLoss?: { sum: number; count: number };
  /** The task's own state (TrainingTask.extraState). */
  extra?: Record<string, unknown>;
  /** Calls so far of each Dropout module, by its path (its masks are seeded per call). */
  dropoutCalls?: Record<string, number>;
  consecutiveBad: number;
  /** The training options the run was started with (for --resume without repeating them). */
  options: Record<string, unknown>;
}

export interface Checkpoint {
  modelConfig: Record<string, unknown>;
  /** The model's state dict: parameters and buffers. */
  weights: Map<string, NamedArray>;
  /** Optimizer state: "<slot>/<param>", or "<group>/<slot>/<param>" for a task with several groups. */
  optimizer: Map<string, NamedArray>;
  /** EMA averages by parameter name, for a task that keeps one. */
  ema?: Map<string, NamedArray>;
  state: TrainState;
}

const FORMAT = 'inflow-checkpoint-1';

/** One safetensors file: model/<name>, opt/<slot>/<name>, ema/<name>, and the state as JSON metadata. Written atomically. */
export function saveCheckpoint(path: string, ckpt: Checkpoint): void {
  const tensors = new Map<string, NamedArray>();
  for (const [k, v] of ckpt.weights) tensors.set(`model/${k}`, v);
  for (const [k, v] of ckpt.optimizer) tensors.set(`opt/${k}`, v);
  if (ckpt.ema) for (const [k, v] of ckpt.ema) tensors.set(`ema/${k}`, v);
  writeFileAtomic(path, encodeSafetensors(tensors, {
    format: FORMAT,
    config: JSON.stringify(ckpt.modelConfig),
    state: JSON.stringify(ckpt.state),
  }));
}

export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new Error(`${path}: checkpoint not found`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata.format !== FORMAT) throw new Error(`${path}: not an inflow checkpoint (format ${JSON.stringify(metadata.format)})`);
  const weights = new Map<string, NamedArray>(), optimizer = new Map<string, NamedArray>(), ema = new Map<string, NamedArray>();
  for (const [k, v] of tensors) {
    if (k.startsWith('model/')) weights.set(k.slice(6), v);
    else if (k.startsWith('opt/')) optimizer.set(k.slice(4), v);
    else if (k.startsWith('ema/')) ema.set(k.slice(4), v);
    else throw new Error(`${path}: unknown checkpoint entry '${k}'`);
  }
  try {
    return { modelConfig: JSON.parse(metadata.config!), weights, optimizer, ...(ema.size ? { ema } : {}), state: JSON.parse(metadata.state!) as TrainState };
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
}
