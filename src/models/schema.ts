/**
 * One validated schema for every model config that reaches a constructor: the flow models'
 * ModelConfig (from `models.*(cfg)`, `fromConfig` and model files), the architecture recorded in a
 * file, and the digit classifier's config. Everything is checked before any layer is built, so a
 * config of the wrong type, absurd size or inconsistent shape fails with one line naming the field,
 * its value and the rule — never with an allocation of gigabytes or a JS-internal message.
 * The limits are documented in docs/model-files.md.
 */
// zod/mini: the same checks as 'zod' at a tenth of the bundle (this module is in the browser build).
import * as z from 'zod/mini';
import type { LayerConfig } from '../layers/layer.js';
import type { LevelConfig, MultiScaleConfig } from '../layers/multiscale.js';
import type { ClassifierConfig } from './classifier.js';
import type { ModelConfig, ModelKind } from './config.js';
import type { FlowModelConfig } from './flow-model.js';
import { planModel } from './plan.js';

/** Ranges of the config fields: generous for real models (the imagenet64 preset is well inside), small enough that no field alone can ask for absurd memory. */
export const LIMITS = {
  channels: 64,
  side: 4096,
  levels: 8,
  steps: 256,
  width: 8192,
  kernelSize: 15,
  classes: 1000,
  classifierWidth: 4096,
  /** Largest `tolerance` of a CInC layer (its decode refuses centre entries within this of 0). */
  tolerance: 1,
} as const;

/** Deepest JSON nesting a model file's header or config may have (a real config needs 9). */
export const MAX_JSON_DEPTH = 32;

export const MODEL_KINDS: readonly ModelKind[] = ['finc', 'cinc', 'inverse', 'glow', 'emerging'];

export const missingOr = (msg: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is missing' : msg);

/** An integer in [min, max]; every failure (type, fraction, range) reads the same. */
export const int = (min: number, max: number) => {
  const msg = `must be an integer from ${min} to ${max}`;
  return z.int({ error: missingOr(msg) }).check(z.gte(min, { error: msg }), z.lte(max, { error: msg }));
};

export const oneOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, { error: missingOr(`must be one of ${values.join(', ')}`) });

export const strict = <S extends Record<string, z.ZodMiniType>>(shape: S, what = 'an object') =>
  z.strictObject(shape, {
    error: (iss) => iss.code === 'unrecognized_keys'
      ? `has unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `'${k}'`).join(', ')} (known: ${Object.keys(shape).join(', ')})`
      : iss.input === undefined ? 'is missing' : `must be ${what}`,
  });

const inputShape = z.tuple([int(1, LIMITS.channels), int(1, LIMITS.side), int(1, LIMITS.side)],
  { error: missingOr(`must be [C, H, W] with C from 1 to ${LIMITS.channels} and H, W from 1 to ${LIMITS.side}`) });

const modelShape = {
  kind: oneOf(MODEL_KINDS as [ModelKind, ...ModelKind[]]),
  inputShape,
  levels: int(1, LIMITS.levels),
  steps: int(1, LIMITS.steps),
  width: int(1, LIMITS.width),
  kernelSize: int(1, LIMITS.kernelSize),
  coupling: oneOf(['affine', 'quad', 'additive']),
  split: oneOf(['prior', 'glow']),
  conv1x1: oneOf(['dense', 'lu']),
  alpha: z.number({ error: missingOr('must be a number above 0 and below 0.5') })
    .check(z.gt(0, { error: 'must be a number above 0 and below 0.5' }), z.lt(0.5, { error: 'must be a number above 0 and below 0.5' })),
  inverseUnit: z.optional(oneOf(['parallel', 'chained'])),
  classes: z.optional(int(2, LIMITS.classes)),
  classCouplings: z.optional(z.boolean({ error: 'must be true or false' })),
};

/** A complete ModelConfig: every field present, in range, and the shape consistent with the levels. */
export const modelConfigSchema = strict(modelShape).check(z.superRefine((m, ctx) => {
  const [, H, W] = m.inputShape;
  if (H % 2 ** m.levels || W % 2 ** m.levels)
    ctx.addIssue({ code: 'custom', path: ['inputShape'],
      message: `cannot be squeezed ${m.levels} times (H and W must be divisible by 2^levels = ${2 ** m.levels})` });
  if (m.classCouplings && !m.classes) ctx.addIssue({ code: 'custom', path: [], message: 'classCouplings needs classes (the number of labels the couplings see)' });
}));

/** The digit classifier's config (src/models/classifier.ts): two squeezes, so H and W are multiples of 4. */
export const classifierConfigSchema = strict({
  kind: z.literal('digit-classifier', { error: missingOr("must be 'digit-classifier'") }),
  inputShape,
  classes: int(2, LIMITS.classes),
  widths: z.tuple([int(1, LIMITS.classifierWidth), int(1, LIMITS.classifierWidth), int(1, LIMITS.classifierWidth)],
    { error: missingOr(`must be three integers from 1 to ${LIMITS.classifierWidth}`) }),
}).check(z.superRefine((c, ctx) => {
  if (c.inputShape[1] % 4 || c.inputShape[2] % 4)
    ctx.addIssue({ code: 'custom', path: ['inputShape'], message: 'must have H and W divisible by 4 (the classifier squeezes twice)' });
}));

const flowModelShape = strict({
  kind: z.literal('flow-model', { error: missingOr("must be 'flow-model'") }),
  model: modelConfigSchema,
  architecture: z.optional(z.unknown()),
});

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A value for a one-line message: primitives as JSON, short arrays of primitives inline, nothing recursive. */
export function showValue(v: unknown): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) {
    const items = v.slice(0, 6).map((x) => (x !== null && typeof x === 'object' ? (Array.isArray(x) ? '[…]' : '{…}') : showValue(x)));
    return `[${items.join(', ')}${v.length > 6 ? `, … (${v.length} entries)` : ''}]`;
  }
  if (typeof v === 'object') return '{…}';
  return v === undefined ? '(nothing)' : `a ${typeof v}`;
}

/** `config model.width`, `config architecture.levels[0].steps[3]`: the root, then the path in JS notation. */
function showPath(root: string, path: readonly PropertyKey[]): string {
  const rest = path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
  return rest ? `${root} ${rest}` : root;
}

/** The value at `path` in plain JSON data (own properties only, so `__proto__` reads as a key). */
function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** `<root>.<path> = <value> <rule>` for the first issue, e.g. `config model.width = 1000000000 must be an integer from 1 to 8192`. */
function firstProblem(error: { issues: ReadonlyArray<{ code: string; path: PropertyKey[]; message: string }> }, input: unknown, root: string): string {
  const issue = error.issues[0]!;
  const where = showPath(root, issue.path);
  const value = at(input, issue.path);
  const subject = where || 'the config';
  if (issue.code === 'custom' && issue.path.length === 0) return `${where ? `${where}: ` : ''}${issue.message}`;
  if (issue.message === 'is missing' || value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value)))
    return `${subject} ${issue.message}`;
  return `${subject} = ${showValue(value)} ${issue.message}`;
}

export function check<T>(schema: z.ZodMiniType<T>, value: unknown, root: string): Checked<T> {
  const r = schema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: firstProblem(r.error, value, root) };
}

/** Checks a complete ModelConfig; `root` prefixes the field paths in the message ('config' → `config width = …`). */
export function checkModelConfig(value: unknown, root = 'config'): Checked<ModelConfig> {
  return check(modelConfigSchema, value, root) as Checked<ModelConfig>;
}

export function checkClassifierConfig(value: unknown, root = 'config'): Checked<ClassifierConfig> {
  return check(classifierConfigSchema, value, root) as Checked<ClassifierConfig>;
}

/**
 * Checks a FlowModelConfig as read from a file or handed to fromConfig: the model config by the
 * schema, then the architecture against planModel(model). Everything the model config implies
 * (layer kinds and names, channels, widths, kernel sizes, the input shape) must be equal; the
 * fields it cannot imply (an LU 1×1's permutation and signs, a CInC layer's tolerance) are checked
 * on their own. Returns the canonical config — the plan with those free fields — so nothing from
 * the input beyond what was checked reaches a constructor.
 */
export function checkFlowModelConfig(value: unknown): Checked<FlowModelConfig> {
  const top = check(flowModelShape, value, 'config');
  if (!top.ok) return top;
  const { model, architecture } = top.value as { model: ModelConfig; architecture: unknown };
  if (architecture === undefined)
    return { ok: false, problem: 'config architecture is missing (it records the exact layers, e.g. the 1×1 permutations, which would otherwise be re-drawn)' };
  try {
    return { ok: true, value: { kind: 'flow-model', model, architecture: canonicalArchitecture(architecture, planModel(model)) } };
  } catch (e) {
    if (e instanceof ArchitectureMismatch) return { ok: false, problem: e.message };
    throw e;
  }
}

class ArchitectureMismatch extends Error {}

const mismatch = (path: string, msg: string): never => {
  throw new ArchitectureMismatch(`config ${path} ${msg}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && b.every((x, i) => sameJson(a[i], x));
  return a === b;
}

function expectKeys(v: unknown, keys: readonly string[], optional: readonly string[], path: string): Record<string, unknown> {
  if (!isObject(v)) mismatch(path, `= ${showValue(v)} must be an object`);
  const obj = v as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !keys.includes(k) && !optional.includes(k));
  if (unknown.length) mismatch(path, `has unknown key ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...new Set([...keys, ...optional])].join(', ')})`);
  for (const k of keys) if (!Object.prototype.hasOwnProperty.call(obj, k)) mismatch(`${path}.${k}`, 'is missing');
  return obj;
}

function expectArray(v: unknown, length: number, path: string, what: string): unknown[] {
  if (!Array.isArray(v)) mismatch(path, `= ${showValue(v)} must be an array`);
  if ((v as unknown[]).length !== length) mismatch(path, `has ${(v as unknown[]).length} ${what}, the model config implies ${length}`);
  return v as unknown[];
}

/** Fields of a layer config that the model config does not determine, and how each is checked. */
const freeFields: Record<string, Record<string, { required: boolean; check: (v: unknown, layer: Record<string, unknown>) => string | null }>> = {
  'conv1x1-lu': {
    perm: {
      required: true,
      check: (v, l) => {
        const C = l.channels as number;
        if (!Array.isArray(v) || v.length !== C || v.some((x) => !Number.isInteger(x) || x < 0 || x >= C) || new Set(v).size !== C)
          return `must be a permutation of 0…${C - 1}`;
        return null;
      },
    },
    sign: {
      required: true,
      check: (v, l) => (Array.isArray(v) && v.length === l.channels && v.every((x) => x === 1 || x === -1) ? null : `must hold ${String(l.channels)} entries of 1 or -1`),
    },
  },
  'cinc-conv': {
    tolerance: {
      required: false,
      check: (v) => (typeof v === 'number' && v >= 0 && v <= LIMITS.tolerance ? null : `must be a number from 0 to ${LIMITS.tolerance}`),
    },
    // The CInC model's layer is the top-left one; the Emerging baseline's inner passes are not in the config.
    corner: { required: false, check: (v) => (v === 'tl' ? null : "must be 'tl'") },
  },
  'inverse-conv': {
    // Absent from the plan for the parallel unit: the constructor's default for its groups.
    corners: {
      required: false,
      check: (v, l) => {
        const want = l.groups === 4 ? ['tl', 'tr', 'bl', 'br'] : new Array<string>(l.groups as number).fill('tl');
        return sameJson(v, want) ? null : `must be ${JSON.stringify(want)} (the corners of ${String(l.groups)} group${l.groups === 1 ? '' : 's'})`;
      },
    },
  },
};

function canonicalLayer(v: unknown, plan: LayerConfig, path: string): LayerConfig {
  const p = plan as unknown as Record<string, unknown>;
  const free = freeFields[plan.kind] ?? {};
  const planKeys = Object.keys(p).filter((k) => p[k] !== undefined);
  if (isObject(v) && Object.prototype.hasOwnProperty.call(v, 'kind') && v.kind !== plan.kind)
    mismatch(`${path}.kind`, `= ${showValue(v.kind)} does not match the model config, which implies '${plan.kind}'`);
  const obj = expectKeys(v, ['kind'], [...planKeys, ...Object.keys(free)], path);
  if (plan.kind === 'sequence') {
    const want = (p.layers as Array<{ name: string; layer: LayerConfig }>);
    const got = expectArray(obj.layers, want.length, `${path}.layers`, 'layers');
    return { kind: 'sequence', layers: want.map((w, i) => {
      const entry = expectKeys(got[i], ['name', 'layer'], [], `${path}.layers[${i}]`);
      if (entry.name !== w.name) mismatch(`${path}.layers[${i}].name`, `= ${showValue(entry.name)} does not match the model config, which implies '${w.name}'`);
      return { name: w.name, layer: canonicalLayer(entry.layer, w.layer, `${path}.layers[${i}].layer`) };
    }) } as LayerConfig;
  }
  const out: Record<string, unknown> = { ...p };
  for (const k of planKeys) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) mismatch(`${path}.${k}`, 'is missing');
    if (!sameJson(obj[k], p[k])) mismatch(`${path}.${k}`, `= ${showValue(obj[k])} does not match the model config, which implies ${showValue(p[k])}`);
  }
  for (const [k, rule] of Object.entries(free)) {
    if (planKeys.includes(k)) continue;
    if (!Object.prototype.hasOwnProperty.call(obj, k)) {
      if (rule.required) mismatch(`${path}.${k}`, 'is missing (without it the layer would be re-drawn at random)');
      continue;
    }
    const problem = rule.check(obj[k], p);
    if (problem) mismatch(`${path}.${k}`, `= ${showValue(obj[k])} ${problem}`);
    out[k] = Array.isArray(obj[k]) ? [...(obj[k] as unknown[])] : obj[k];
  }
  return out as unknown as LayerConfig;
}

function canonicalArchitecture(arch: unknown, plan: MultiScaleConfig): MultiScaleConfig {
  const root = 'architecture';
  const a = expectKeys(arch, ['kind', 'inputShape', 'levels'], [], root);
  if (a.kind !== 'multiscale') mismatch(`${root}.kind`, `= ${showValue(a.kind)} must be 'multiscale'`);
  if (!sameJson(a.inputShape, plan.inputShape))
    mismatch(`${root}.inputShape`, `= ${showValue(a.inputShape)} differs from model.inputShape ${showValue(plan.inputShape)}`);
  const levels = expectArray(a.levels, plan.levels.length, `${root}.levels`, 'levels');
  return {
    kind: 'multiscale',
    inputShape: [...plan.inputShape],
    levels: plan.levels.map((want, l): LevelConfig => {
      const path = `${root}.levels[${l}]`;
      const level = expectKeys(levels[l], ['steps', 'split'], [], path);
      const steps = expectArray(level.steps, want.steps.length, `${path}.steps`, 'steps');
      if ((level.split === null) !== (want.split === null))
        mismatch(`${path}.split`, want.split ? `is null, the model config implies a '${want.split.kind}' layer` : 'must be null on the last level');
      return {
        steps: want.steps.map((s, i) => canonicalLayer(steps[i], s, `${path}.steps[${i}]`)),
        split: want.split ? canonicalLayer(level.split, want.split, `${path}.split`) : null,
      };
    }),
  };
}
