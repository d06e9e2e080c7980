import { closeSync, fstatSync, openSync, readSync, constants as fsConstants } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { FlowModel, FlowModelConfig } from '../models/index.js';
import { fsReason, kindOf, writeFileAtomic } from './atomic-write.js';
import { checkModelBytes, modelFromBytes, modelToBytes, requireEngine } from './model-bytes.js';
import { ModelFileError } from './safetensors.js';

/** Largest model file loadModel reads from a path (2 GiB): a guard against pointing it at a disk image. */
export const MAX_FILE_BYTES = 2 ** 31;

/**
 * Serialises a model: safetensors weights named by their dotted paths, the architecture config in
 * the metadata. Returns the bytes; with a path, also writes them atomically.
 */
export async function saveModel(model: FlowModel, path?: string): Promise<Uint8Array> {
  const bytes = await modelToBytes(model);
  if (path) writeFileAtomic(path, bytes);
  return bytes;
}

export interface LoadModelOptions {
  engine: Engine;
  /** Load NaN / ±Infinity weights instead of refusing the file (debugging only). */
  allowNonFinite?: boolean;
}

/** Reads a model file (path or bytes), checks it (docs/model-files.md), and rebuilds the model on `engine`. */
export async function loadModel(source: string | Uint8Array, opts: LoadModelOptions): Promise<FlowModel> {
  requireEngine(opts);
  const allowNonFinite = opts.allowNonFinite === true;
  if (typeof source !== 'string') return modelFromBytes(source, { engine: opts.engine, allowNonFinite });
  return modelFromBytes(readRegularFile(source, 'model'), { engine: opts.engine, name: source, allowNonFinite });
}

/**
 * The bytes of a regular file, at most MAX_FILE_BYTES: the path is opened once and the open file
 * is checked (fstat), so a folder, a pipe, a socket or a device such as /dev/zero is refused at
 * once instead of being read without end, and a file that grows while it is read (or is swapped
 * after the check) yields exactly the size that was checked. `what` names the kind of file in
 * errors ('model', 'classifier').
 */
export function readRegularFile(path: string, what: string): Uint8Array {
  if (typeof path !== 'string' || path === '') throw new ModelFileError(`${what} file: the path must be a non-empty string`);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise block before fstat could refuse it.
    fd = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(`${path}: ${what} file not found`);
    throw new ModelFileError(`${path}: cannot open the ${what} file (${fsReason(e)})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ModelFileError(`${path}: is ${kindOf(st)}, not a ${what} file`);
    if (st.size > MAX_FILE_BYTES) throw new ModelFileError(`${path}: ${st.size} bytes is larger than any inflow ${what} file (limit ${MAX_FILE_BYTES})`);
    const bytes = new Uint8Array(st.size);
    let off = 0;
    while (off < bytes.length) {
      let n: number;
      try {
        n = readSync(fd, bytes, off, bytes.length - off, off);
      } catch (e) {
        throw new ModelFileError(`${path}: cannot read the ${what} file (${fsReason(e)})`);
      }
      if (n === 0) throw new ModelFileError(`${path}: the file shrank from ${st.size} to ${off} bytes while it was read`);
      off += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** What `inflow inspect` shows: the checked config, the tensor list, the file size and the cost. */
export interface ModelFileInfo {
  config: FlowModelConfig;
  tensors: Array<{ name: string; shape: number[] }>;
  bytes: number;
  params: number;
  /** Upper estimate of one image's activations (src/models/cost.ts). */
  activationBytesPerImage: number;
  /** Whether the file carries per-tensor checksums (all verified). */
  checksummed: boolean;
}

/**
 * Config and tensor list of a model file, after every check loadModel makes except building the
 * model (for `inflow inspect`, which must accept exactly the files `inflow sample` accepts).
 * `memoryBudget` defaults to INFLOW_MEMORY_BUDGET or 2 GiB, as an engine's does.
 */
export function inspectModelFile(path: string, opts: { memoryBudget?: number } = {}): ModelFileInfo {
  const bytes = readRegularFile(path, 'model');
  const { config, tensors, cost, checksummed } = checkModelBytes(bytes, path, { memoryBudget: opts.memoryBudget });
  const list = [...tensors].map(([n, t]) => ({ name: n, shape: t.shape }));
  return { config, tensors: list, bytes: bytes.length, params: cost.params, activationBytesPerImage: cost.activationBytesPerImage, checksummed };
}
