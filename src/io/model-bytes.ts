/**
 * Model files as bytes: the part of the model-file format that needs no file system, so browsers
 * (fetch → loadModel) and Node (model-file.ts, which adds paths) share it. Every rule of
 * docs/model-files.md is checked here before a layer is built: the container (exact coverage,
 * checksums), the required metadata, the config against the one schema (src/models/schema.ts), the
 * tensors against the parameters the config implies, the cost against the memory budget, and
 * finally that every weight is finite and every 1×1 weight invertible.
 */
import { checkBudget, resolveMemoryBudget } from '../engine/budget.js';
import type { Engine } from '../engine/engine.js';
import { describeValue, fail, InflowError } from '../engine/errors.js';
import { modelCost, weightBytes, type ModelCost } from '../models/cost.js';
import { inverse, matmul, slogdet } from '../layers/linalg.js';
import type { MultiScaleConfig } from '../layers/multiscale.js';
import type { SequenceConfig } from '../layers/sequence.js';
import { FlowModel, type FlowModelConfig } from '../models/flow-model.js';
import { planParamShapes } from '../models/plan.js';
import { checkFlowModelConfig, MAX_JSON_DEPTH, type Checked } from '../models/schema.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, parseBoundedJson, type DecodeOptions, type NamedArray } from './safetensors.js';

/** Metadata key holding the model's JSON config inside the safetensors file. */
const CONFIG_KEY = 'inflow.config';
const FORMAT_KEY = 'inflow.format';
const FORMAT = 'inflow-model-1';

export interface ModelLoadOptions {
  /** The engine that holds the weights and runs the model (required). */
  engine: Engine;
  /** Names the file in errors (default 'model bytes'). */
  name?: string;
  /**
   * Load weights that are NaN or ±Infinity instead of refusing the file (for debugging a diverged
   * run; such a model samples black images and scores NaN bits/dim). Also skips the check that
   * every 1×1 weight is invertible, which NaN weights would fail.
   */
  allowNonFinite?: boolean;
}

/** Serialises a model: safetensors weights named by their dotted paths, the architecture config and per-tensor CRC-32s in the metadata. */
export async function modelToBytes(model: FlowModel): Promise<Uint8Array> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  return encodeSafetensors(tensors, { [FORMAT_KEY]: FORMAT, [CONFIG_KEY]: JSON.stringify(model.config) });
}

/** A model file that passed every check that needs no engine. */
export interface CheckedModelBytes {
  /** The canonical config: the model config and the architecture it implies, with the file's free fields (LU permutations). */
  config: FlowModelConfig;
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
  cost: ModelCost;
  /** Whether the file carried per-tensor checksums (all verified). */
  checksummed: boolean;
}

/**
 * What a kind of model file (flow, classifier, autoencoder, diffusion) states for itself; the steps
 * every kind takes with it are readModelFile's.
 */
export interface ModelFileKind<C> {
  /** The `inflow.format` metadata entry its files carry. */
  format: string;
  /** The problem, after `name: `, with a file whose entry is another (`found`; undefined when there is none). */
  otherFormat: (found: string | undefined) => string;
  /** Its config schema (the file's own checks beyond it follow readModelFile). */
  check: (json: unknown) => Checked<C>;
  /** What its messages call the config (default 'model': "the metadata has no model config"). */
  configName?: string;
}

/** A file's format entry as the messages quote it: `format "inflow-model-1"` (at most 40 characters), `format null`. */
export const formatEntry = (found: string | undefined): string => `format ${JSON.stringify(found?.slice(0, 40) ?? null)}`;

/**
 * The checks every model file starts with, in the order a user can act on: the container (exact
 * coverage, checksums, finite weights if asked), the format entry, the config (present, JSON with a
 * bound on its nesting, the kind's schema). The tensors, the budget and the rest are the caller's.
 */
export function readModelFile<C>(bytes: Uint8Array, name: string, kind: ModelFileKind<C>, decode?: DecodeOptions):
  { config: C; tensors: Map<string, NamedArray>; metadata: Record<string, string>; checksummed: boolean } {
  const { tensors, metadata, checksummed } = decodeSafetensors(bytes, name, decode);
  if (metadata[FORMAT_KEY] !== kind.format) throw new ModelFileError(`${name}: ${kind.otherFormat(metadata[FORMAT_KEY])}`);
  const what = kind.configName ?? 'model';
  const text = metadata[CONFIG_KEY];
  if (text === undefined) throw new ModelFileError(`${name}: the metadata has no ${what} config ('${CONFIG_KEY}' is missing)`);
  let json: unknown;
  try {
    json = parseBoundedJson(text, MAX_JSON_DEPTH);
  } catch (e) {
    throw new ModelFileError(`${name}: the ${what} config in the metadata is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const checked = kind.check(json);
  if (!checked.ok) throw new ModelFileError(`${name}: ${checked.problem}`);
  return { config: checked.value, tensors, metadata, checksummed };
}

/** A check of what a file describes (the memory budget's) whose failure is the file's: a ModelFileError with the same message. */
export function asFileProblem(check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof InflowError) throw new ModelFileError(e.message);
    throw e;
  }
}

/** An autoencoder or diffusion model file that passed every check that needs no engine. */
export interface CheckedFileBytes<C> {
  config: C;
  tensors: Map<string, NamedArray>;
  params: number;
  checksummed: boolean;
}

const FLOW_FILE: ModelFileKind<FlowModelConfig> = {
  format: FORMAT,
  otherFormat: (found) => `not an inflow model file (${formatEntry(found)})`,
  check: (json) => checkFlowModelConfig(json),
};

/**
 * Runs every check of a model file that needs no engine, in the order a user can act on: the
 * container, the metadata, the config (schema and architecture), the tensors against the
 * parameters the config implies (names, shapes, the total: a file cannot declare more parameters
 * than it carries), the memory budget, and the weights (finite, 1×1s invertible). Nothing is built.
 */
export function checkModelBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}): CheckedModelBytes {
  const { config, tensors, metadata, checksummed } = readModelFile(bytes, name, FLOW_FILE);
  const { model, architecture } = config;
  const cost = modelCost(model, architecture);
  checkTensors(name, tensors, planParamShapes(model, architecture), cost.params, model.kind);
  asFileProblem(() => checkBudget(name, `the ${model.kind} model it describes (${cost.params.toLocaleString('en')} parameters, with one ${model.inputShape.join('×')} image's activations)`,
    weightBytes(cost) + cost.activationBytesPerImage, opts.memoryBudget ?? resolveMemoryBudget()));
  if (!opts.allowNonFinite) {
    requireFinite(name, tensors);
    requireInvertible1x1(name, architecture, tensors);
  }
  return { config, tensors, metadata, cost, checksummed };
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** The file's tensors must be exactly the model's parameters: the same names, shapes and total. */
export function checkTensors(name: string, tensors: ReadonlyMap<string, NamedArray>, want: ReadonlyMap<string, number[]>, params: number, kind: string): void {
  let carried = 0;
  for (const t of tensors.values()) carried += t.data.length;
  let problem: string | null = null;
  for (const [key, t] of tensors) {
    const shape = want.get(key);
    if (!shape) problem = `tensor '${key.slice(0, 80)}' is not a parameter of this ${kind} model (unknown layer)`;
    else if (shape.join() !== t.shape.join()) problem = `tensor '${key}' has shape ${shapeText(t.shape)}, the model expects ${shapeText(shape)}`;
    if (problem) break;
  }
  if (!problem) for (const key of want.keys()) if (!tensors.has(key)) { problem = `parameter '${key}' is missing`; break; }
  if (carried !== params)
    throw new ModelFileError(`${name}: the config declares ${params.toLocaleString('en')} parameters but the file carries ${carried.toLocaleString('en')}${problem ? ` (${problem})` : ''}`);
  if (problem) throw new ModelFileError(`${name}: ${problem}`);
}

/** Refuses NaN and ±Infinity, naming the tensor and the index of the first one. */
function requireFinite(name: string, tensors: ReadonlyMap<string, NamedArray>): void {
  for (const [key, t] of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++)
      if (!Number.isFinite(d[i]!))
        throw new ModelFileError(`${name}: tensor '${key}' holds ${d[i]} at index ${i}: the weights are corrupt (the allowNonFinite option loads them anyway, for debugging)`);
  }
}

/**
 * The 1×1 layers' weights must be invertible: the model inverts them on the host when it is
 * prepared (src/layers/conv1x1.ts, conv1x1-lu.ts), so a singular one would fail there; checked here
 * the same way, so `inflow inspect` refuses what loading refuses.
 */
function requireInvertible1x1(name: string, arch: MultiScaleConfig, tensors: ReadonlyMap<string, NamedArray>): void {
  const f64 = (key: string) => Float64Array.from(tensors.get(key)!.data);
  arch.levels.forEach((level, l) => level.steps.forEach((step, i) => {
    for (const { name: layerName, layer } of (step as unknown as SequenceConfig).layers) {
      const at = `flow.levels.${l}.steps.${i}.${layerName}`;
      const C = (layer as unknown as { channels: number }).channels;
      let singular = false;
      if (layer.kind === 'conv1x1') {
        const w = f64(`${at}.weight`);
        singular = !Number.isFinite(slogdet(w, C).logAbs) || !inverse(w, C);
      } else if (layer.kind === 'conv1x1-lu') {
        const { perm, sign } = layer as unknown as { perm: number[]; sign: number[] };
        const lo = f64(`${at}.lower`), up = f64(`${at}.upper`), logs = f64(`${at}.logs`);
        const P = new Float64Array(C * C), L = new Float64Array(C * C), U = new Float64Array(C * C);
        for (let r = 0; r < C; r++) {
          P[perm[r]! * C + r] = 1;
          L[r * C + r] = 1;
          U[r * C + r] = sign[r]! * Math.exp(logs[r]!);
          for (let c = 0; c < r; c++) L[r * C + c] = lo[r * C + c]!;
          for (let c = r + 1; c < C; c++) U[r * C + c] = up[r * C + c]!;
        }
        singular = !inverse(matmul(P, matmul(L, U, C), C), C);
      }
      if (singular) throw new ModelFileError(`${name}: the ${C}×${C} weight of '${at}' is singular, so the layer is not invertible: the weights are corrupt`);
    }
  }));
}

/** The config and tensors of a model file, checked as loadModel checks them (without building the model); `name` appears in errors. */
export function parseModelBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}):
  { config: FlowModelConfig; tensors: Map<string, NamedArray> } {
  const { config, tensors } = checkModelBytes(bytes, name, opts);
  return { config, tensors };
}

/** Fails unless the options name an engine (a JS caller may pass none); `op` and `need` word the failure for each loader. */
export function requireEngine(opts: { engine?: Engine } | undefined, op = 'loadModel', need = 'needs { engine } as its second argument: loadModel(source, { engine })'): void {
  if (!opts || typeof opts !== 'object' || !opts.engine || typeof opts.engine.tensor !== 'function') fail(op, need);
}

/** A loader's bytes argument as a Uint8Array; anything else is refused, naming what it was (`describe`). */
export function bytesArgument(bytes: unknown, name: string, describe: (v: unknown) => string = describeValue): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new ModelFileError(`${name}: a model must be given as a Uint8Array or ArrayBuffer of the file's bytes, not ${describe(bytes)}`);
}

/**
 * A model that failed to take a checked file's weights (or to prepare them): it is disposed, and a
 * library error becomes the file's problem, naming it. Returns what to throw.
 */
export function loadFailure(name: string, model: { dispose(): void }, e: unknown): unknown {
  model.dispose();
  return e instanceof InflowError && !(e instanceof ModelFileError) ? new ModelFileError(`${name}: ${e.message}`) : e;
}

/** Checks a model file (docs/model-files.md) and rebuilds the model on `engine`. */
export async function modelFromBytes(bytes: Uint8Array | ArrayBuffer, opts: ModelLoadOptions): Promise<FlowModel> {
  requireEngine(opts);
  const name = opts.name ?? 'model bytes';
  const { config, tensors } = checkModelBytes(bytesArgument(bytes, name, (b) => (b === null ? 'null' : typeof b)), name,
    { memoryBudget: opts.engine.memoryBudget, allowNonFinite: opts.allowNonFinite });
  const model = new FlowModel(opts.engine, config.model, config.architecture);
  try {
    model.loadParameters(new Map([...tensors].map(([k, v]) => [k, v.data])));
    await model.prepare();
  } catch (e) {
    throw loadFailure(name, model, e);
  }
  return model;
}
