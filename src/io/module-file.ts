/**
 * Files of one nn Module (docs/model-files.md): safetensors with a CRC-32 per tensor and metadata
 * entry, an `inflow.format` and an `inflow.config` checked by its schema, the tensors exactly the
 * state the config implies, finite weights and the memory budget — all before the module is built.
 * Each kind (plate detector, GAN generator, pixel autoencoder, seed classifier) says only what
 * differs: its format, schema, tensor shapes and activation memory.
 */
import { checkBudget, resolveMemoryBudget } from '../engine/budget.js';
import type { Engine } from '../engine/engine.js';
import type { StateValue } from '../nn/module.js';
import { asFileProblem, bytesArgument, checkTensors, loadFailure, readModelFile, requireEngine, type ModelFileKind } from './model-bytes.js';
import { encodeSafetensors, type NamedArray } from './safetensors.js';

export interface ModuleFileKind<C> extends ModelFileKind<C> {
  /** What messages call the module: 'plate detector'. */
  what: string;
  /** Every tensor the config implies, by state-dict name. */
  shapes(config: C): ReadonlyMap<string, number[]>;
  /** Bytes of activations to budget beside the weights, and what they are ("one image's activations"). */
  activationBytes(config: C): number;
  activations: string;
  /** What the tensors hold, in the budget's message (default 'parameters'). */
  unit?: string;
}

export interface CheckedModule<C> {
  config: C;
  tensors: Map<string, NamedArray>;
  /** Values the tensors hold. */
  values: number;
  metadata: Record<string, string>;
}

/** Every check of a module file that needs no engine; nothing is built. */
export function checkModuleBytes<C>(kind: ModuleFileKind<C>, bytes: Uint8Array, name: string, memoryBudget = resolveMemoryBudget()): CheckedModule<C> {
  const { config, tensors, metadata } = readModelFile(bytes, name, kind, { finite: true });
  const shapes = kind.shapes(config);
  let values = 0;
  for (const s of shapes.values()) values += s.reduce((a, b) => a * b, 1);
  checkTensors(name, tensors, shapes, values, kind.what);
  asFileProblem(() => checkBudget(name, `the ${kind.what} it describes (${values.toLocaleString('en')} ${kind.unit ?? 'parameters'}, with ${kind.activations})`,
    4 * values + kind.activationBytes(config), memoryBudget));
  return { config, tensors, values, metadata };
}

type Loadable = { loadStateDict(state: ReadonlyMap<string, StateValue>): void; dispose(): void };

/**
 * Checks a module file's bytes and builds the module on `engine` (`build`) with the file's state;
 * a module that refuses it is disposed and the failure names the file. `op` words a missing engine.
 */
export function moduleFromBytes<C, M extends Loadable>(
  kind: ModuleFileKind<C>, op: string, bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }, build: (engine: Engine, config: C) => M,
): M {
  requireEngine(opts, op, 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  return buildChecked(checkModuleBytes(kind, bytesArgument(bytes, name), name, opts.engine.memoryBudget), name, opts.engine, build);
}

/** The module of a checked file (checkModuleBytes), built on `engine` and given the file's state. */
export function buildChecked<C, M extends Loadable>(checked: CheckedModule<C>, name: string, engine: Engine, build: (engine: Engine, config: C) => M): M {
  const model = build(engine, checked.config);
  try {
    model.loadStateDict(checked.tensors);
  } catch (e) {
    throw loadFailure(name, model, e);
  }
  return model;
}

/** The file of a module's `state` (name → tensor) with its format, config and `extra` metadata entries. */
export async function moduleToBytes(format: string, config: unknown, state: Iterable<[string, { shape: readonly number[]; value: { data(): Promise<Float32Array> } }]>,
  extra: Record<string, string> = {}): Promise<Uint8Array> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, s] of state) tensors.set(name, { shape: [...s.shape], data: await s.value.data() });
  return encodeSafetensors(tensors, { ...extra, 'inflow.format': format, 'inflow.config': JSON.stringify(config) });
}
