import { readFileSync, statSync, type Stats } from 'node:fs';
import { z } from 'zod';
import { fsReason, kindOf, writeFileAtomic } from '../io/atomic-write.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type NamedArray } from '../io/safetensors.js';

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

/** Checkpoints are read whole; readFileSync cannot read more than this (2 GiB − 1). */
const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

const natural = z.int({ error: 'must be a whole number ≥ 0' }).min(0, { error: 'must be a whole number ≥ 0' });
const finite = z.number({ error: 'must be a finite number' }).refine(Number.isFinite, { error: 'must be a finite number' });
const counts = z.record(z.string(), natural, { error: 'must be an object of whole numbers ≥ 0' });
const json = z.record(z.string(), z.unknown(), { error: 'must be an object' });

/**
 * The state metadata as written by saveCheckpoint. A resumed run indexes the training set with
 * `order` and seeds its RNG with `rng.words`, so every field is checked before it is used; the
 * cross-checks against the data (order covers the training set) are the loop's, on resume.
 */
const stateSchema = z.object({
  step: natural,
  epoch: natural,
  cursor: natural,
  order: z.array(natural, { error: 'must be an array of whole numbers ≥ 0' }),
  rng: z.object({
    words: z.array(z.int({ error: 'must be 32-bit words' }).min(0, { error: 'must be 32-bit words' }).max(2 ** 32 - 1, { error: 'must be 32-bit words' }),
      { error: 'must be an array of four 32-bit words' }).length(4, { error: 'must hold four 32-bit words' }),
    spare: finite.nullable(),
  }, { error: 'must be an object { words, spare }' }),
  optimizerSteps: natural,
  optimizers: counts.optional(),
  emaUpdates: natural.optional(),
  epochLoss: z.object({ sum: finite, count: natural }, { error: 'must be an object { sum, count }' }).optional(),
  extra: json.optional(),
  dropoutCalls: counts.optional(),
  consecutiveBad: natural,
  options: json,
}, { error: 'must be an object' });

const damaged = (path: string, what: string): ModelFileError => new ModelFileError(`${path}: checkpoint metadata is damaged: ${what}`);

/** The JSON object in metadata[key], or a one-line error naming the key. */
function metadataJson(path: string, metadata: Record<string, string>, key: string): unknown {
  const text = metadata[key];
  if (text === undefined) throw damaged(path, `${key} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw damaged(path, `${key} is not valid JSON`);
  }
}

/**
 * Reads a checkpoint written by saveCheckpoint. Only a regular file is read (a folder, a pipe or a
 * device is refused by stat before it is opened), and the state is checked against its schema.
 * Every problem is a ModelFileError: one line naming the file and what was wrong.
 */
export function loadCheckpoint(path: string): Checkpoint {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ModelFileError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path}: checkpoint not found` : `${path}: cannot read the checkpoint (${fsReason(e)})`);
  }
  if (!st.isFile()) throw new ModelFileError(`${path}: is ${kindOf(st)}, not a checkpoint file`);
  if (st.size > MAX_CHECKPOINT_BYTES) throw new ModelFileError(`${path}: ${st.size} bytes is larger than a checkpoint can be (limit ${MAX_CHECKPOINT_BYTES})`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ModelFileError(`${path}: cannot read the checkpoint (${fsReason(e)})`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata.format !== FORMAT) throw new ModelFileError(`${path}: not an inflow checkpoint (format ${JSON.stringify(metadata.format ?? null)})`);
  const weights = new Map<string, NamedArray>(), optimizer = new Map<string, NamedArray>(), ema = new Map<string, NamedArray>();
  for (const [k, v] of tensors) {
    if (k.startsWith('model/')) weights.set(k.slice(6), v);
    else if (k.startsWith('opt/')) optimizer.set(k.slice(4), v);
    else if (k.startsWith('ema/')) ema.set(k.slice(4), v);
    else throw new ModelFileError(`${path}: unknown checkpoint entry '${k}'`);
  }
  const config = metadataJson(path, metadata, 'config');
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw damaged(path, 'config must be an object');
  const parsed = stateSchema.safeParse(metadataJson(path, metadata, 'state'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw damaged(path, `${['state', ...issue.path.map(String)].join('.')} ${issue.message}`);
  }
  const state = parsed.data as TrainState;
  if (state.cursor > state.order.length) throw damaged(path, `state.cursor ${state.cursor} is past the end of state.order (${state.order.length} entries)`);
  return { modelConfig: config as Record<string, unknown>, weights, optimizer, ...(ema.size ? { ema } : {}), state };
}
