/**
 * The seeded generator of malformed model files: case `index` of seed `seed` is always the same
 * bytes, so any failure is reproduced with `npm run fuzz -- --seed S --only INDEX`. Each case takes
 * one valid base file (fuzz/bases.ts) and applies one to three mutations; every mutation says
 * whether the file it makes is definitely invalid (a loader that accepts it is missing a check) or
 * may be a file the format cannot tell from a valid one (a flipped mantissa bit, swapped weights).
 */

// ---- a small seeded PRNG, independent of the library's own so library changes cannot move the cases

const fmix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** mulberry32, seeded from (seed, stream) so every case has its own sequence. */
export class Prng {
  private s: number;
  constructor(seed: number, stream: number) {
    this.s = fmix((seed >>> 0) ^ fmix((stream + 0x9e3779b9) >>> 0)) ^ 0x6d2b79f5;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number { return this.u32() / 4294967296; }
  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.float() < p; }
  pick<T>(items: readonly T[]): T {
    if (!items.length) throw new Error('fuzz: pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.float() * total;
    for (const [v, w] of items) if ((r -= w) < 0) return v;
    return items[items.length - 1]![0];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

// ---- base files ------------------------------------------------------------------------------

export interface TensorEntry { name: string; dtype: string; shape: number[]; begin: number; end: number }

export interface BaseFile {
  name: string;
  bytes: Uint8Array;
  /** The safetensors header, keys in file order. */
  header: Record<string, unknown>;
  /** The data section (everything after the header). */
  data: Uint8Array;
  /** Tensors sorted by offset. */
  entries: TensorEntry[];
  config: Json;
  inputShape: [number, number, number];
  /** Whether the file carries weight checksums (then a changed weight is detectable). */
  hasChecksum: boolean;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const CONFIG_KEY = 'inflow.config';
// not /sha/: 'shape' would match
const CHECKSUM = /checksum|crc|hash|sha\d|digest/i;
const FORMAT_KEY = 'inflow.format';
const enc = new TextEncoder();

/** Reads a valid base file's layout; throws if it is not one (the fuzzer's own precondition). */
export function parseBase(name: string, bytes: Uint8Array): BaseFile {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const metadata = header.__metadata__ as Record<string, string>;
  const config = JSON.parse(metadata[CONFIG_KEY]!) as JsonObject;
  const entries: TensorEntry[] = [];
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    entries.push({ name: k, dtype: e.dtype, shape: e.shape, begin: e.data_offsets[0], end: e.data_offsets[1] });
  }
  entries.sort((a, b) => a.begin - b.begin);
  const model = config.model as JsonObject;
  return {
    name, bytes, header, data: bytes.slice(8 + n), entries, config,
    inputShape: model.inputShape as [number, number, number],
    hasChecksum: Object.keys(metadata).some((k) => k !== CONFIG_KEY && k !== FORMAT_KEY && CHECKSUM.test(k))
      || entries.some((e) => Object.keys(header[e.name] as object).some((k) => CHECKSUM.test(k))),
  };
}

// ---- the document a case edits ----------------------------------------------------------------

interface Doc {
  base: BaseFile;
  header: Record<string, unknown>;
  data: Uint8Array;
  /** Raw JSON text put in place of a quoted placeholder in the header text (deep nesting, duplicate keys). */
  headerReplace: Array<[string, string]>;
  /** Replaces the whole header text. */
  headerText?: string;
  /** Spaces after the JSON: 'align' pads the data to 8 bytes as inflow writes it. */
  pad: 'align' | 'none' | number;
  leading: string;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Own enumerable property even for '__proto__', which plain assignment would turn into a prototype. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Serialized { bytes: Uint8Array; headerLen: number; dataStart: number; entries: TensorEntry[] | null }

function serialize(doc: Doc): Serialized {
  let text = doc.headerText ?? JSON.stringify(doc.header);
  for (const [placeholder, raw] of doc.headerReplace) text = text.replace(JSON.stringify(placeholder), raw);
  text = doc.leading + text;
  const len = enc.encode(text).length;
  text += ' '.repeat(doc.pad === 'none' ? 0 : doc.pad === 'align' ? (8 - ((8 + len) % 8)) % 8 : doc.pad);
  const h = enc.encode(text);
  const out = new Uint8Array(8 + h.length + doc.data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(doc.data, 8 + h.length);
  return { bytes: out, headerLen: h.length, dataStart: 8 + h.length, entries: docEntries(doc) };
}

/** The tensor ranges the header describes, when it still describes them. */
function docEntries(doc: Doc): TensorEntry[] | null {
  if (doc.headerText !== undefined) return null;
  const out: TensorEntry[] = [];
  for (const [k, v] of Object.entries(doc.header)) {
    if (k === '__metadata__') continue;
    const o = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    const offs = o?.data_offsets;
    if (!Array.isArray(offs) || typeof offs[0] !== 'number' || typeof offs[1] !== 'number') continue;
    out.push({ name: k, dtype: String(o!.dtype), shape: o!.shape as number[], begin: offs[0], end: offs[1] });
  }
  return out.sort((a, b) => a.begin - b.begin);
}

function tensorNames(doc: Doc): string[] {
  return Object.keys(doc.header).filter((k) => k !== '__metadata__' && typeof doc.header[k] === 'object' && doc.header[k] !== null);
}

function metadataOf(doc: Doc): Record<string, unknown> | null {
  const m = doc.header.__metadata__;
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : null;
}

/** Edits the parsed config and writes it back; `raw` lists placeholders to splice as raw JSON text. */
function editConfig(doc: Doc, fn: (cfg: JsonObject) => Json | void, raw: Array<[string, string]> = []): void {
  const m = metadataOf(doc);
  if (!m || typeof m[CONFIG_KEY] !== 'string') return;
  const cfg = JSON.parse(m[CONFIG_KEY] as string) as JsonObject;
  const replaced = fn(cfg);
  let text = JSON.stringify(replaced === undefined ? cfg : replaced);
  for (const [placeholder, r] of raw) text = text.replace(JSON.stringify(placeholder), r);
  m[CONFIG_KEY] = text;
}

function readConfig(doc: Doc): JsonObject | null {
  const m = metadataOf(doc);
  if (!m || typeof m[CONFIG_KEY] !== 'string') return null;
  try {
    const c = JSON.parse(m[CONFIG_KEY] as string) as unknown;
    return c && typeof c === 'object' && !Array.isArray(c) ? (c as JsonObject) : null;
  } catch {
    return null;
  }
}

type Path = Array<string | number>;

/** Every path below the config root with its value, objects and arrays included. */
function walk(v: Json, path: Path = [], out: Array<{ path: Path; value: Json }> = []): Array<{ path: Path; value: Json }> {
  if (path.length) out.push({ path, value: v });
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k], out);
  return out;
}

function getAt(root: Json, path: Path): Json | undefined {
  let v: Json | undefined = root;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string | number, Json>)[p] : undefined;
  return v;
}

function setAt(root: Json, path: Path, value: Json | undefined): void {
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json> | undefined;
  if (!parent || typeof parent !== 'object') return;
  const key = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (key === '__proto__') setOwn(parent as Record<string, unknown>, key, value);
  else parent[key] = value;
}

const pathStr = (p: Path): string => p.map((x, i) => (typeof x === 'number' ? `[${x}]` : i ? `.${x}` : x)).join('');
const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Layer configs of the architecture: { path to the layer object, the layer }. */
function layersOf(cfg: JsonObject): Array<{ path: Path; layer: JsonObject }> {
  const out: Array<{ path: Path; layer: JsonObject }> = [];
  const levels = (cfg.architecture as JsonObject | undefined)?.levels;
  if (!Array.isArray(levels)) return out;
  levels.forEach((lv, i) => {
    const steps = (lv as JsonObject)?.steps;
    if (Array.isArray(steps))
      steps.forEach((st, j) => {
        const layers = (st as JsonObject)?.layers;
        if (Array.isArray(layers))
          layers.forEach((l, k) => {
            const layer = (l as JsonObject)?.layer;
            if (layer && typeof layer === 'object' && !Array.isArray(layer)) out.push({ path: ['architecture', 'levels', i, 'steps', j, 'layers', k, 'layer'], layer });
          });
      });
    const split = (lv as JsonObject)?.split;
    if (split && typeof split === 'object' && !Array.isArray(split)) out.push({ path: ['architecture', 'levels', i, 'split'], layer: split as JsonObject });
  });
  return out;
}

function nested(depth: number, style: 'array' | 'object'): string {
  return style === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

// ---- mutations --------------------------------------------------------------------------------

/** What one mutation did: a variant label, details, and whether the file is now definitely invalid. */
interface Applied { variant: string; detail: string; invalid: boolean; special?: SpecialFile }

/**
 * Paths that are not regular files, made by the runner: loadModel must refuse each at once, without
 * reading it (/dev/zero never ends, a FIFO without a writer blocks open(), a sparse 3 GiB file is
 * over the size cap and its limit is that of the bytes written at its start).
 */
export type SpecialFile = 'dev-zero' | 'symlink-dev-zero' | 'directory' | 'fifo' | 'missing' | 'sparse-3g';

/** `checksummed`: the case's file still carries the base's checksums (a changed weight is then detectable). */
interface Ctx { rng: Prng; doc: Doc; base: BaseFile; checksummed: boolean }

interface RawCtx { rng: Prng; bytes: Uint8Array; layout: Serialized; base: BaseFile; checksummed: boolean }

interface Mutation {
  kind: string;
  weight: number;
  /** Order of application: 0 checksums, 1 config, 2 data layout, 3 header fields, 4 whole header text, 5 raw bytes. */
  phase: 0 | 1 | 2 | 3 | 4 | 5;
  /** Applies only alone (controls, files that replace everything). */
  alone?: boolean;
  when?: (checksummed: boolean) => boolean;
  apply?: (c: Ctx) => Applied;
  raw?: (c: RawCtx) => { bytes: Uint8Array } & Applied;
}

const ABSURD_INTS = [40000, 3e8, 1e6, 2 ** 31, 2 ** 53, 1e308, -1, -40000, 0, 0.5, 3.7];
const ABSURD_ALPHA = [-1, 0, 1, 2, 1e308, -1e-6];
const WRONG_TYPES: Json[] = ['8', 'abc', '', null, [], {}, true, false, [8], { value: 8 }, 'NaN', 'Infinity'];

function flipBits(rng: Prng, bytes: Uint8Array, lo: number, hi: number, count: number): number[] {
  const at: number[] = [];
  for (let i = 0; i < count && hi > lo; i++) {
    const pos = rng.int(lo, hi - 1);
    bytes[pos]! ^= 1 << rng.int(0, 7);
    at.push(pos);
  }
  return at;
}

function setU64(bytes: Uint8Array, v: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset, 8).setBigUint64(0, BigInt.asUintN(64, v), true);
}

/** A tensor of the document with its current byte range (phase 2 runs before any header field is broken). */
function pickTensor(rng: Prng, doc: Doc, minBytes = 4): TensorEntry | null {
  const list = (docEntries(doc) ?? []).filter((e) => e.end - e.begin >= minBytes);
  return list.length ? rng.pick(list) : null;
}

function removeRange(doc: Doc, begin: number, end: number): void {
  const size = end - begin;
  const d = new Uint8Array(doc.data.length - size);
  d.set(doc.data.subarray(0, begin));
  d.set(doc.data.subarray(end), begin);
  doc.data = d;
  for (const e of docEntries(doc) ?? []) {
    if (e.begin >= end) (doc.header[e.name] as { data_offsets: number[] }).data_offsets = [e.begin - size, e.end - size];
  }
}

function insertBytes(doc: Doc, at: number, extra: Uint8Array): void {
  const d = new Uint8Array(doc.data.length + extra.length);
  d.set(doc.data.subarray(0, at));
  d.set(extra, at);
  d.set(doc.data.subarray(at), at + extra.length);
  for (const e of docEntries(doc) ?? []) {
    if (e.begin >= at) (doc.header[e.name] as { data_offsets: number[] }).data_offsets = [e.begin + extra.length, e.end + extra.length];
  }
  doc.data = d;
}

function randomBytes(rng: Prng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
  return b;
}

const f32At = (data: Uint8Array, byte: number): number => new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat32(byte, true);

export const mutations: Mutation[] = [
  // -- controls: files that are valid and must load
  {
    kind: 'control', weight: 3, phase: 4, alone: true,
    apply: ({ rng, doc }) => {
      const variant = rng.pick(['copy', 'reordered-keys', 'unpadded', 'extra-padding']);
      if (variant === 'reordered-keys') {
        const keys = rng.shuffle(Object.keys(doc.header));
        const h: Record<string, unknown> = {};
        for (const k of keys) h[k] = doc.header[k];
        const m = metadataOf({ ...doc, header: h });
        if (m) {
          const mk = rng.shuffle(Object.keys(m));
          const m2: Record<string, unknown> = {};
          for (const k of mk) m2[k] = m[k];
          h.__metadata__ = m2;
        }
        doc.header = h;
      } else if (variant === 'unpadded') doc.pad = 'none';
      else if (variant === 'extra-padding') doc.pad = 8 * rng.int(1, 8) + rng.int(0, 7);
      return { variant, detail: `valid file (${variant})`, invalid: false };
    },
  },
  // -- raw bytes
  {
    kind: 'bitflip-header', weight: 6, phase: 5,
    raw: ({ rng, bytes, layout }) => {
      const at = flipBits(rng, bytes, 8, 8 + layout.headerLen, rng.int(1, 3));
      const ctx = new TextDecoder().decode(bytes.subarray(Math.max(8, at[0]! - 16), Math.min(8 + layout.headerLen, at[0]! + 16)));
      return { bytes, variant: 'header', detail: `bits flipped at header bytes ${at.join(', ')} (near ${JSON.stringify(ctx)})`, invalid: false };
    },
  },
  {
    kind: 'bitflip-data', weight: 6, phase: 5,
    raw: ({ rng, bytes, layout, checksummed }) => {
      const count = rng.int(1, 3);
      let nonFinite = false;
      const parts: string[] = [];
      for (let i = 0; i < count && bytes.length > layout.dataStart; i++) {
        const pos = rng.int(layout.dataStart, bytes.length - 1);
        const bit = rng.int(0, 7);
        bytes[pos]! ^= 1 << bit;
        const off = pos - layout.dataStart;
        const e = layout.entries?.find((t) => t.begin <= off && off < t.end);
        if (e) {
          const at = off - ((off - e.begin) % 4);
          const v = f32At(bytes.subarray(layout.dataStart), at);
          if (!Number.isFinite(v)) nonFinite = true;
          parts.push(`'${e.name}'[${(at - e.begin) / 4}] bit ${8 * ((off - e.begin) % 4) + bit} → ${v}`);
        } else parts.push(`data byte ${off} bit ${bit}`);
      }
      return { bytes, variant: nonFinite ? 'to-nonfinite' : 'finite', detail: parts.join('; '), invalid: nonFinite || checksummed };
    },
  },
  {
    kind: 'bitflip-length', weight: 2, phase: 5,
    raw: ({ rng, bytes }) => {
      const at = flipBits(rng, bytes, 0, 8, 1);
      return { bytes, variant: at[0]! < 4 ? 'low' : 'high', detail: `bit flipped in header-length byte ${at[0]}`, invalid: true };
    },
  },
  {
    kind: 'truncate', weight: 5, phase: 5,
    raw: ({ rng, bytes, layout }) => {
      const where = rng.pick(['end', 'header', 'data', 'anywhere'] as const);
      const n = where === 'end' ? bytes.length - rng.int(1, 8)
        : where === 'header' ? rng.int(8, 8 + layout.headerLen - 1)
          : where === 'data' ? rng.int(layout.dataStart, Math.max(layout.dataStart, bytes.length - 1))
            : rng.int(0, bytes.length - 1);
      return { bytes: bytes.slice(0, Math.max(0, n)), variant: where, detail: `cut to ${n} of ${bytes.length} bytes`, invalid: true };
    },
  },
  {
    kind: 'header-length', weight: 5, phase: 5,
    raw: ({ rng, bytes, layout }) => {
      const real = BigInt(layout.headerLen);
      const choices: bigint[] = [0n, 2n ** 32n, 2n ** 32n + real, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(bytes.length), BigInt(bytes.length - 8), BigInt(bytes.length - 7)];
      const small = rng.chance(0.55);
      let v = small ? real + BigInt(rng.pick([-8, -7, -4, -3, -2, -1, 1, 2, 3, 4, 8])) : rng.pick(choices);
      if (v === real || v < 0n) v = real + 1n;
      setU64(bytes, v);
      return { bytes, variant: small ? 'small' : 'huge', detail: `header length ${real} → ${v}`, invalid: true };
    },
  },
  {
    kind: 'trailing-bytes', weight: 4, phase: 5,
    raw: ({ rng, bytes }) => {
      const n = rng.pick([1, 2, 3, 4, 7, 8, 64, 4096]);
      const fill = rng.pick(['zeros', 'spaces', 'random'] as const);
      const extra = fill === 'random' ? randomBytes(rng, n) : new Uint8Array(n).fill(fill === 'spaces' ? 0x20 : 0);
      const out = new Uint8Array(bytes.length + n);
      out.set(bytes);
      out.set(extra, bytes.length);
      return { bytes: out, variant: fill, detail: `${n} ${fill} bytes appended`, invalid: true };
    },
  },
  {
    kind: 'empty-file', weight: 2, phase: 5, alone: true,
    raw: ({ rng }) => {
      const n = rng.pick([0, 0, 1, 4, 7]);
      return { bytes: randomBytes(rng, n), variant: n ? 'short' : 'empty', detail: `${n}-byte file`, invalid: true };
    },
  },
  {
    kind: 'special-file', weight: 2, phase: 5, alone: true,
    raw: ({ rng, bytes }) => {
      const special = rng.pick<SpecialFile>(['dev-zero', 'symlink-dev-zero', 'directory', 'fifo', 'missing', 'sparse-3g']);
      return { bytes: special === 'sparse-3g' ? bytes : new Uint8Array(0), variant: special, detail: `path is ${special}`, invalid: true, special };
    },
  },
  {
    kind: 'garbage', weight: 2, phase: 5, alone: true,
    raw: ({ rng }) => {
      const n = rng.int(8, 4096);
      const b = randomBytes(rng, n);
      const variant = rng.pick(['random', 'plausible-length', 'json-start'] as const);
      if (variant !== 'random') setU64(b, BigInt(rng.int(0, n - 8)));
      if (variant === 'json-start' && n > 10) b.set(enc.encode('{"'), 8);
      return { bytes: b, variant, detail: `${n} random bytes (${variant})`, invalid: true };
    },
  },
  {
    kind: 'invalid-utf8', weight: 3, phase: 5,
    raw: ({ rng, bytes, layout }) => {
      const seqs = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82]];
      const seq = rng.pick(seqs);
      // inside a string: just after an opening quote, so the JSON stays well formed apart from the bytes
      const quotes: number[] = [];
      for (let i = 8; i < 8 + layout.headerLen - seq.length - 1; i++) if (bytes[i] === 0x22 && bytes[i + 1] !== 0x3a && bytes[i + 1] !== 0x2c) quotes.push(i + 1);
      const at = quotes.length ? rng.pick(quotes) : 9;
      bytes.set(seq, at);
      return { bytes, variant: seq.map((b) => b.toString(16)).join(''), detail: `bytes ${seq.map((b) => '0x' + b.toString(16)).join(' ')} at header byte ${at}`, invalid: true };
    },
  },
  // -- data layout (phase 2)
  {
    kind: 'nonfinite-weight', weight: 6, phase: 2,
    apply: ({ rng, doc }) => {
      const t = pickTensor(rng, doc);
      if (!t) return { variant: 'none', detail: 'no tensor', invalid: false };
      const bits = rng.pick([[0x7fc00000, 'NaN'], [0xffc00000, '-NaN'], [0x7f800001, 'sNaN'], [0x7f800000, 'Inf'], [0xff800000, '-Inf']] as const);
      const all = rng.chance(0.3);
      const dv = new DataView(doc.data.buffer, doc.data.byteOffset, doc.data.byteLength);
      const n = (t.end - t.begin) / 4;
      const idx = rng.int(0, n - 1);
      for (let i = all ? 0 : idx; i < (all ? n : idx + 1); i++) dv.setUint32(t.begin + 4 * i, bits[0], true);
      return { variant: bits[1], detail: `'${t.name}'${all ? ' all' : `[${idx}]`} = ${bits[1]}`, invalid: true };
    },
  },
  {
    kind: 'huge-weight', weight: 5, phase: 2,
    apply: ({ rng, doc, checksummed }) => {
      const t = pickTensor(rng, doc);
      if (!t) return { variant: 'none', detail: 'no tensor', invalid: false };
      const v = rng.pick([1e30, -1e30, 3.4e38, -3.4e38, 1e20, 1e-40]);
      const all = rng.chance(0.3);
      const dv = new DataView(doc.data.buffer, doc.data.byteOffset, doc.data.byteLength);
      const n = (t.end - t.begin) / 4;
      const idx = rng.int(0, n - 1);
      for (let i = all ? 0 : idx; i < (all ? n : idx + 1); i++) dv.setFloat32(t.begin + 4 * i, v, true);
      return { variant: String(v), detail: `'${t.name}'${all ? ' all' : `[${idx}]`} = ${v}`, invalid: checksummed };
    },
  },
  {
    kind: 'offsets-gap', weight: 3, phase: 2,
    apply: ({ rng, doc }) => {
      const t = pickTensor(rng, doc, 0);
      if (!t) return { variant: 'none', detail: 'no tensor', invalid: false };
      const g = rng.pick([1, 4, 8, 64]);
      insertBytes(doc, t.begin, new Uint8Array(g));
      return { variant: `${g}`, detail: `${g}-byte gap before '${t.name}' (offsets shifted to match)`, invalid: true };
    },
  },
  {
    kind: 'offsets-swap', weight: 2, phase: 2,
    apply: ({ rng, doc, checksummed }) => {
      const list = docEntries(doc) ?? [];
      const bySize = new Map<number, TensorEntry[]>();
      for (const e of list) bySize.set(e.end - e.begin, [...(bySize.get(e.end - e.begin) ?? []), e]);
      const groups = [...bySize.values()].filter((g) => g.length >= 2);
      if (!groups.length) return { variant: 'none', detail: 'no two tensors of one size', invalid: false };
      const [a, b] = rng.shuffle([...rng.pick(groups)]);
      const ha = doc.header[a!.name] as { data_offsets: number[] }, hb = doc.header[b!.name] as { data_offsets: number[] };
      [ha.data_offsets, hb.data_offsets] = [hb.data_offsets, ha.data_offsets];
      const sameShape = a!.shape.join() === b!.shape.join();
      // fresh models have many all-zero tensors: swapping two equal ranges changes nothing
      const bytesA = doc.data.subarray(a!.begin, a!.end), bytesB = doc.data.subarray(b!.begin, b!.end);
      const identical = bytesA.every((v, i) => v === bytesB[i]);
      return { variant: identical ? 'identical' : sameShape ? 'same-shape' : 'same-size', detail: `ranges of '${a!.name}' and '${b!.name}' swapped`, invalid: checksummed && !identical };
    },
  },
  {
    kind: 'tensor-missing', weight: 4, phase: 2,
    apply: ({ rng, doc }) => {
      const t = pickTensor(rng, doc, 0);
      if (!t) return { variant: 'none', detail: 'no tensor', invalid: false };
      removeRange(doc, t.begin, t.end);
      delete doc.header[t.name];
      return { variant: 'removed', detail: `'${t.name}' removed with its data`, invalid: true };
    },
  },
  {
    kind: 'tensor-extra', weight: 4, phase: 2,
    apply: ({ rng, doc }) => {
      const names = tensorNames(doc);
      if (rng.chance(0.15)) {
        // many empty tensors: a loader that is quadratic in the header's entries hangs here
        const n = rng.pick([1000, 100_000]);
        const end = doc.data.length;
        for (let i = 0; i < n; i++) doc.header[`flow.extra.${i}`] = { dtype: 'F32', shape: [0], data_offsets: [end, end] };
        return { variant: `many-${n}`, detail: `${n} extra empty tensors`, invalid: true };
      }
      const some = names.length ? rng.pick(names) : 'flow';
      const name = rng.pick([`${some}.extra`, 'flow.levels.9.steps.0.actnorm.bias', 'flow.levels.0.steps.99.actnorm.logs', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prior.extra']);
      const n = rng.pick([1, 4, 16]);
      const begin = doc.data.length;
      const extra = new Uint8Array(4 * n);
      const d = new Uint8Array(begin + extra.length);
      d.set(doc.data);
      doc.data = d;
      setOwn(doc.header, name, { dtype: 'F32', shape: [n], data_offsets: [begin, begin + 4 * n] });
      return { variant: /^[a-z_]+$/i.test(name) ? name : 'plausible', detail: `extra tensor '${name}' [${n}]`, invalid: true };
    },
  },
  // -- header fields (phase 3)
  {
    kind: 'dtype', weight: 4, phase: 3,
    apply: ({ rng, doc }) => {
      const names = tensorNames(doc);
      if (!names.length) return { variant: 'none', detail: 'no tensor', invalid: false };
      const name = rng.pick(names);
      const v = rng.pick<Json | undefined>(['F16', 'BF16', 'F64', 'I32', 'I64', 'U8', 'BOOL', 'f32', 'F32 ', '', null, 32, ['F32'], {}, undefined]);
      const e = doc.header[name] as Record<string, unknown>;
      if (v === undefined) delete e.dtype;
      else e.dtype = v;
      return { variant: v === undefined ? 'missing' : jsonType(v) === 'string' ? String(v) || 'empty' : jsonType(v), detail: `'${name}' dtype → ${v === undefined ? '(missing)' : short(v)}`, invalid: true };
    },
  },
  {
    kind: 'shape', weight: 5, phase: 3,
    apply: ({ rng, doc }) => {
      const names = tensorNames(doc);
      if (!names.length) return { variant: 'none', detail: 'no tensor', invalid: false };
      const name = rng.pick(names);
      const e = doc.header[name] as Record<string, unknown>;
      const shape = Array.isArray(e.shape) ? (e.shape as number[]) : [1];
      const numel = shape.reduce((a, b) => a * b, 1);
      const distinct = shape.length >= 2 && shape.some((d) => d !== shape[0]);
      const options: Array<[string, Json]> = [
        ['plus-one', shape.map((d, i) => (i === 0 ? d + 1 : d))],
        ['minus-one', shape.map((d, i) => (i === shape.length - 1 ? Math.max(0, d - 1) : d))],
        ['flattened', numel === shape[0] ? [numel, 1] : [numel]],
        ['extra-dim', [...shape, 1]],
        ['scalar', []],
        ['zero', [0]],
        ['negative', shape.map((d, i) => (i === 0 ? -d : d))],
        ['fractional', shape.map((d, i) => (i === 0 ? d + 0.5 : d))],
        ['string', shape.map(String)],
        ['null', null],
        ['huge', [2 ** 53, 1]],
        ['huge-product', [1e6, 1e6, 1e6]],
        ['rank-20', new Array(20).fill(1)],
        ['nested', [shape]],
        ['json-infinity', '@@INF@@'],
      ];
      if (distinct) options.push(['swapped', [...shape].reverse()]);
      const [variant, v] = rng.pick(options);
      e.shape = v;
      // 1e999 is valid JSON that parses to Infinity
      if (variant === 'json-infinity') doc.headerReplace.push(['@@INF@@', `[${shape.slice(1).join(',')}${shape.length > 1 ? ',' : ''}1e999]`]);
      return { variant, detail: `'${name}' shape ${short(shape)} → ${variant === 'json-infinity' ? '[..., 1e999]' : short(v)}`, invalid: true };
    },
  },
  {
    kind: 'offsets', weight: 5, phase: 3,
    apply: ({ rng, doc }) => {
      const list = docEntries(doc) ?? [];
      if (!list.length) return { variant: 'none', detail: 'no tensor', invalid: false };
      const i = rng.int(0, list.length - 1);
      const t = list[i]!, prev = list[i - 1], other = rng.pick(list);
      const k = rng.pick([1, 2, 4, 8, 4 * Math.max(1, Math.floor((t.end - t.begin) / 8))]);
      const options: Array<[string, Json]> = [
        ['shift-forward', [t.begin + k, t.end + k]],
        ['shift-back', [Math.max(0, t.begin - k), Math.max(0, t.end - k)]],
        ['reversed', [t.end, t.begin]],
        ['longer', [t.begin, t.end + 4]],
        ['shorter', [t.begin, Math.max(t.begin, t.end - 4)]],
        ['overlap-previous', prev ? [prev.begin, prev.begin + (t.end - t.begin)] : [t.begin + 1, t.end + 1]],
        ['same-as-other', [other.begin, other.end]],
        ['past-end', [doc.data.length, doc.data.length + (t.end - t.begin)]],
        ['huge', [2 ** 53, 2 ** 53 + (t.end - t.begin)]],
        ['negative', [-4, t.end - t.begin - 4]],
        ['fractional', [t.begin + 0.5, t.end + 0.5]],
        ['strings', [String(t.begin), String(t.end)]],
        ['one-element', [t.begin]],
        ['three-elements', [t.begin, t.end, t.end]],
        ['null', null],
        ['json-infinity', '@@INF@@'],
      ];
      let [variant, v] = rng.pick(options);
      if (variant === 'json-infinity') doc.headerReplace.push(['@@INF@@', `[${t.begin}, 1e999]`]);
      if (JSON.stringify(v) === JSON.stringify([t.begin, t.end])) [variant, v] = ['huge', [2 ** 53, 2 ** 53 + 4]];
      (doc.header[t.name] as Record<string, unknown>).data_offsets = v;
      return { variant, detail: `'${t.name}' data_offsets [${t.begin}, ${t.end}] → ${short(v)}`, invalid: true };
    },
  },
  {
    kind: 'tensor-renamed', weight: 4, phase: 3,
    apply: ({ rng, doc }) => {
      const names = tensorNames(doc);
      if (!names.length) return { variant: 'none', detail: 'no tensor', invalid: false };
      const from = rng.pick(names);
      const to = rng.pick([`${from}x`, from.toUpperCase(), `${from} `, from.replace(/\.\d+\./, '.7.'), '__proto__', 'constructor', '', 'flow', from.split('.').reverse().join('.'), `${from}.${'x'.repeat(5000)}`]);
      const h: Record<string, unknown> = {};
      for (const k of Object.keys(doc.header)) setOwn(h, k === from ? (to === from ? `${to}_` : to) : k, doc.header[k]);
      doc.header = h;
      return { variant: /^(__proto__|constructor|)$/.test(to) ? to || 'empty' : to.length > 1000 ? 'long' : 'other', detail: `'${from}' renamed '${short(to)}'`, invalid: true };
    },
  },
  {
    kind: 'metadata', weight: 4, phase: 3,
    apply: ({ rng, doc }) => {
      const m = metadataOf(doc) ?? {};
      const variant = rng.pick(['null', 'array', 'string', 'number', 'empty', 'missing', 'config-number', 'config-null', 'config-object', 'config-array', 'format-number', 'extra-non-string'] as const);
      switch (variant) {
        case 'null': doc.header.__metadata__ = null; break;
        case 'array': doc.header.__metadata__ = [m[FORMAT_KEY], m[CONFIG_KEY]]; break;
        case 'string': doc.header.__metadata__ = 'inflow-model-1'; break;
        case 'number': doc.header.__metadata__ = 1; break;
        case 'empty': doc.header.__metadata__ = {}; break;
        case 'missing': delete doc.header.__metadata__; break;
        case 'config-number': m[CONFIG_KEY] = 42; break;
        case 'config-null': m[CONFIG_KEY] = null; break;
        case 'config-object': m[CONFIG_KEY] = readConfig(doc); break;
        case 'config-array': m[CONFIG_KEY] = [m[CONFIG_KEY]]; break;
        case 'format-number': m[FORMAT_KEY] = 1; break;
        case 'extra-non-string': m['inflow.note'] = { a: 1 }; break;
      }
      return { variant, detail: `__metadata__ ${variant}`, invalid: true };
    },
  },
  {
    kind: 'format-key', weight: 2, phase: 3,
    apply: ({ rng, doc }) => {
      const m = metadataOf(doc);
      const v = rng.pick([undefined, 'inflow-model-0', 'inflow-model-2', '', 'INFLOW-MODEL-1', 'inflow-model-1 ']);
      if (m) {
        if (v === undefined) delete m[FORMAT_KEY];
        else m[FORMAT_KEY] = v;
      }
      return { variant: v === undefined ? 'missing' : 'changed', detail: `inflow.format → ${v === undefined ? '(missing)' : JSON.stringify(v)}`, invalid: true };
    },
  },
  {
    kind: 'config-json', weight: 3, phase: 3,
    apply: ({ rng, doc }) => {
      const m = metadataOf(doc);
      const cfg = typeof m?.[CONFIG_KEY] === 'string' ? (m[CONFIG_KEY] as string) : '{}';
      const v = rng.pick(['', '{', 'null', '42', '"finc"', '[]', 'true', '{}', '{"kind":"flow-model"}', `${cfg} garbage`, 'NaN', cfg.slice(0, Math.floor(cfg.length / 2)), `[${cfg}]`]);
      if (m) m[CONFIG_KEY] = v;
      return { variant: v.length > 24 ? 'damaged' : v || 'empty', detail: `inflow.config → ${short(v)}`, invalid: true };
    },
  },
  {
    kind: 'proto-keys', weight: 5, phase: 3,
    apply: ({ rng, doc }) => {
      const variant = rng.pick(['metadata-format', 'config-model-field', 'layer-channels', 'tensor-dtype', 'header-proto', 'config-extra', 'layer-constructor'] as const);
      let invalid = true;
      switch (variant) {
        case 'metadata-format': {
          // a loader that copies metadata with Object.assign would find the format on the prototype
          const m = metadataOf(doc);
          if (m) {
            const f = m[FORMAT_KEY];
            delete m[FORMAT_KEY];
            setOwn(m, '__proto__', { [FORMAT_KEY]: f });
          }
          break;
        }
        case 'config-model-field':
          editConfig(doc, (c) => {
            const model = c.model as JsonObject;
            const key = rng.pick(['width', 'levels', 'inputShape', 'kind', 'alpha']);
            const v = model[key]!;
            delete model[key];
            setOwn(model, '__proto__', { [key]: v });
          });
          break;
        case 'layer-channels':
          editConfig(doc, (c) => {
            const layers = layersOf(c);
            if (!layers.length) return;
            const { layer } = rng.pick(layers);
            const v = layer.channels!;
            delete layer.channels;
            setOwn(layer, '__proto__', { channels: rng.chance(0.5) ? v : 40000 });
          });
          break;
        case 'tensor-dtype': {
          const names = tensorNames(doc);
          if (names.length) {
            const e = doc.header[rng.pick(names)] as Record<string, unknown>;
            delete e.dtype;
            setOwn(e, '__proto__', { dtype: 'F32' });
          }
          break;
        }
        case 'header-proto':
          setOwn(doc.header, '__proto__', { __metadata__: metadataOf(doc) });
          break;
        case 'config-extra':
          invalid = false; // an unknown key next to complete fields: a lenient schema may ignore it
          editConfig(doc, (c) => setOwn(c.model as JsonObject, '__proto__', { width: 40000, channels: 40000 }));
          break;
        case 'layer-constructor':
          invalid = false;
          editConfig(doc, (c) => {
            const layers = layersOf(c);
            if (layers.length) setOwn(rng.pick(layers).layer, 'constructor', { prototype: { channels: 40000 } });
          });
          break;
      }
      return { variant, detail: `__proto__/constructor key (${variant})`, invalid };
    },
  },
  // -- config values (phase 1)
  {
    kind: 'config-type', weight: 7, phase: 1,
    apply: ({ rng, doc }) => {
      let detail = 'no config', variant = 'none';
      editConfig(doc, (c) => {
        const paths = walk(c).filter((p) => p.path[0] !== 'kind' || p.path.length > 1);
        const { path, value } = rng.pick(paths);
        let v = rng.pick(WRONG_TYPES);
        for (let tries = 0; jsonType(v) === jsonType(value) && tries < 20; tries++) v = rng.pick(WRONG_TYPES);
        if (jsonType(v) === jsonType(value)) v = jsonType(value) === 'string' ? 8 : 'x';
        setAt(c, path, v);
        variant = `${jsonType(value)}→${jsonType(v)}`;
        detail = `${pathStr(path)} = ${short(v)} (was ${short(value)})`;
      });
      return { variant, detail, invalid: variant !== 'none' };
    },
  },
  {
    kind: 'config-size', weight: 8, phase: 1,
    apply: ({ rng, doc, checksummed }) => {
      let detail = 'no config', variant = 'none', indistinguishable = false;
      const raw: Array<[string, string]> = [];
      editConfig(doc, (c) => {
        const special = rng.pick(['channels-40000', 'width-3e8', 'levels-1e6', 'json-infinity', 'generic', 'generic', 'generic'] as const);
        const layers = layersOf(c);
        let path: Path | null = null, v: number | null = null;
        if (special === 'channels-40000') {
          const oneByOne = layers.filter((l) => /conv1x1/.test(String(l.layer.kind)));
          const pick = oneByOne.length ? rng.pick(oneByOne) : layers.length ? rng.pick(layers) : null;
          if (pick) [path, v] = [[...pick.path, 'channels'], 40000];
        } else if (special === 'width-3e8') {
          const wide = layers.filter((l) => typeof l.layer.width === 'number');
          [path, v] = wide.length && rng.chance(0.7) ? [[...rng.pick(wide).path, 'width'], 3e8] : [['model', 'width'], 3e8];
        } else if (special === 'levels-1e6') [path, v] = [['model', rng.pick(['levels', 'steps'])], 1e6];
        if (!path) {
          const nums = walk(c).filter((p) => typeof p.value === 'number');
          const p = rng.pick(nums);
          path = p.path;
          const pool = path[path.length - 1] === 'alpha' ? ABSURD_ALPHA : ABSURD_INTS;
          v = rng.pick(pool.filter((x) => x !== p.value));
        }
        const was = getAt(c, path);
        if (special === 'json-infinity') {
          // 1e999 and -1e999 are valid JSON that parse to ±Infinity; -0 passes `< 1` checks oddly
          const text = rng.pick(['1e999', '-1e999', '-0']);
          setAt(c, path, '@@INF@@');
          raw.push(['@@INF@@', text]);
          variant = special;
          detail = `${pathStr(path)} = ${text} (was ${short(was)})`;
          return;
        }
        setAt(c, path, v!);
        const last = path[path.length - 1]!;
        variant = special !== 'generic' ? special : typeof last === 'string' ? last : `${String(path[path.length - 2])}[]`;
        detail = `${pathStr(path)} = ${v} (was ${short(was)})`;
        // An LU 1×1's sign is free in the format: flipped to the other valid value, only the checksum
        // (which covers the config) can tell.
        indistinguishable = variant === 'sign[]' && (v === 1 || v === -1);
      }, raw);
      return { variant, detail, invalid: variant !== 'none' && (checksummed || !indistinguishable) };
    },
  },
  {
    kind: 'architecture-missing', weight: 3, phase: 1,
    apply: ({ rng, doc }) => {
      const what = rng.pick(['architecture', 'model', 'architecture.levels', 'model.inputShape'] as const);
      editConfig(doc, (c) => {
        if (what === 'architecture.levels') delete (c.architecture as JsonObject).levels;
        else if (what === 'model.inputShape') delete (c.model as JsonObject).inputShape;
        else delete c[what];
      });
      return { variant: what, detail: `config without ${what}`, invalid: true };
    },
  },
  {
    kind: 'architecture-inputshape', weight: 4, phase: 1,
    apply: ({ rng, doc, base }) => {
      const [C, H, W] = base.inputShape;
      const shape = rng.pick([[C, 7 * H, 7 * W], [C, 2 * H, 2 * W], [C, H / 2, W / 2], [C === 1 ? 3 : 1, H, W], [C, H, 2 * W]]);
      const which = rng.pick(['architecture', 'model'] as const);
      editConfig(doc, (c) => { (c[which] as JsonObject).inputShape = shape; });
      return { variant: which, detail: `${which}.inputShape → ${short(shape)}, the other stays ${short(base.inputShape)}`, invalid: true };
    },
  },
  {
    kind: 'resolution', weight: 3, phase: 1,
    apply: ({ rng, doc, base }) => {
      // The convolutions do not depend on H and W: a consistent new resolution is a valid model for
      // flows without a class prior, and a hostile one at 1024× must meet the memory budget.
      const [C, H, W] = base.inputShape;
      const m = rng.pick([2, 4, 32, 1024]);
      const shape = [C, H * m, W * m];
      editConfig(doc, (c) => {
        (c.model as JsonObject).inputShape = shape;
        (c.architecture as JsonObject).inputShape = shape;
      });
      return { variant: `x${m}`, detail: `model and architecture inputShape → ${short(shape)}`, invalid: false };
    },
  },
  {
    kind: 'kind-change', weight: 4, phase: 1,
    apply: ({ rng, doc }) => {
      const variant = rng.pick(['config-kind', 'model-kind-unknown', 'model-kind-other', 'architecture-kind', 'layer-kind'] as const);
      let detail: string = variant;
      let invalid = true;
      editConfig(doc, (c) => {
        const model = c.model as JsonObject;
        if (variant === 'config-kind') c.kind = rng.pick(['flow-model-2', 'FLOW-MODEL', null, 'classifier']);
        else if (variant === 'model-kind-unknown') model.kind = rng.pick(['unknown', 'FINC', '', 'constructor', '__proto__']);
        else if (variant === 'model-kind-other') {
          // the architecture still says what to build; whether the model kind must agree is the schema's call
          model.kind = rng.pick(['finc', 'cinc', 'inverse', 'glow', 'emerging'].filter((k) => k !== model.kind));
          invalid = false;
        } else if (variant === 'architecture-kind') (c.architecture as JsonObject).kind = rng.pick(['sequence', 'multiscale2', 'actnorm']);
        else {
          const layers = layersOf(c);
          if (layers.length) {
            const { layer, path } = rng.pick(layers);
            const swap: Record<string, string> = { conv1x1: 'conv1x1-lu', 'conv1x1-lu': 'conv1x1', actnorm: 'finc-unit', 'finc-unit': 'actnorm' };
            const was = String(layer.kind);
            layer.kind = swap[was] ?? rng.pick(['unknown-layer', 'actnorm', 'sequence']);
            if (layer.kind === was) layer.kind = 'unknown-layer';
            detail = `${pathStr(path)}.kind ${was} → ${String(layer.kind)}`;
          }
        }
      });
      return { variant, detail, invalid };
    },
  },
  {
    kind: 'layers-structure', weight: 4, phase: 1,
    apply: ({ rng, doc }) => {
      const variant = rng.pick(['drop-step', 'duplicate-step', 'no-levels', 'no-layers', 'split-removed', 'split-added', 'extra-level', 'layer-order'] as const);
      let invalid = true;
      editConfig(doc, (c) => {
        const levels = (c.architecture as JsonObject).levels as JsonObject[];
        const lv = levels[0]!;
        const steps = lv.steps as JsonObject[];
        switch (variant) {
          case 'drop-step': steps.pop(); break;
          case 'duplicate-step': steps.push(clone(steps[0]!)); break;
          case 'no-levels': (c.architecture as JsonObject).levels = []; break;
          case 'no-layers': steps[0]!.layers = []; break;
          case 'split-removed': lv.split = null; break;
          case 'split-added': levels[levels.length - 1]!.split = clone(levels[0]!.split ?? { kind: 'glow-split', channels: 4 }); break;
          case 'extra-level': levels.push(clone(levels[levels.length - 1]!)); break;
          case 'layer-order': {
            // same layers, another order: a different model whose tensors all still fit
            const layers = steps[0]!.layers as Json[];
            if (layers.length >= 2) [layers[0], layers[1]] = [layers[1]!, layers[0]!];
            invalid = false;
            break;
          }
        }
      });
      return { variant, detail: `architecture ${variant}`, invalid };
    },
  },
  {
    kind: 'deep-nesting', weight: 4, phase: 1,
    apply: ({ rng, doc }) => {
      const depth = rng.weighted([[1000, 1], [10000, 3], [100000, 1]] as const);
      const style = rng.pick(['array', 'object'] as const);
      const where = rng.pick(['config-value', 'config-root', 'layer-channels', 'tensor-shape', 'header-key', 'metadata'] as const);
      const ph = '@@NEST@@';
      const text = nested(depth, style);
      if (where === 'config-value') editConfig(doc, (c) => { (c.model as JsonObject).width = ph; }, [[ph, text]]);
      else if (where === 'config-root') editConfig(doc, () => ph, [[ph, text]]);
      else if (where === 'layer-channels') editConfig(doc, (c) => { const l = layersOf(c); if (l.length) rng.pick(l).layer.channels = ph; }, [[ph, text]]);
      else if (where === 'tensor-shape') {
        const names = tensorNames(doc);
        if (names.length) (doc.header[rng.pick(names)] as Record<string, unknown>).shape = ph;
        doc.headerReplace.push([ph, text]);
      } else if (where === 'header-key') {
        doc.header.nested = ph;
        doc.headerReplace.push([ph, text]);
      } else {
        const m = metadataOf(doc);
        if (m) m['inflow.note'] = ph;
        doc.headerReplace.push([ph, text]);
      }
      return { variant: `${where}`, detail: `${style} nested ${depth} deep at ${where}`, invalid: true };
    },
  },
  // -- whole header text (phase 4)
  {
    kind: 'header-not-object', weight: 2, phase: 4,
    apply: ({ rng, doc }) => {
      const text = JSON.stringify(doc.header);
      const v = rng.pick(['[]', '42', '"str"', 'null', 'true', `[${text}]`, '', ' ', '{}', `${text}${text}`]);
      doc.headerText = v;
      return { variant: v.length > 12 ? (v.startsWith('[') ? 'wrapped' : 'twice') : v.trim() || 'empty', detail: `header → ${short(v)}`, invalid: true };
    },
  },
  {
    kind: 'leading-space', weight: 1, phase: 4,
    apply: ({ rng, doc }) => {
      doc.leading = rng.pick([' ', '  ', '\n', '\t', ' '.repeat(8), '\uFEFF']);
      // JSON allows whitespace and TextDecoder drops a BOM; the reference safetensors reader requires
      // '{' first: either answer is fine
      return { variant: doc.leading === '\uFEFF' ? 'bom' : 'whitespace', detail: `${JSON.stringify(doc.leading)} before the header JSON`, invalid: false };
    },
  },
  {
    kind: 'tensor-duplicate-key', weight: 2, phase: 4,
    apply: ({ rng, doc }) => {
      const t = pickTensor(rng, doc);
      if (!t) return { variant: 'none', detail: 'no tensor', invalid: false };
      const begin = doc.data.length, size = t.end - t.begin;
      const d = new Uint8Array(begin + size);
      d.set(doc.data);
      d.set(doc.data.subarray(t.begin, t.end), begin);
      doc.data = d;
      const dup = `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: 'F32', shape: t.shape, data_offsets: [begin, begin + size] })}`;
      const first = rng.chance(0.5);
      const text = JSON.stringify(doc.header);
      doc.headerText = first ? `{${dup},${text.slice(1)}` : `${text.slice(0, -1)},${dup}}`;
      return { variant: first ? 'first' : 'last', detail: `'${t.name}' twice in the header (${first ? 'first' : 'last'} copy points at ${size} appended bytes)`, invalid: true };
    },
  },
  // -- checksums, only when the base file has them
  {
    // first, so the mutations after it know whether a changed weight is still detectable
    kind: 'checksum', weight: 3, phase: 0,
    when: (checksummed) => checksummed,
    apply: ({ rng, doc }) => {
      const m = metadataOf(doc) ?? {};
      const keys = Object.keys(m).filter((k) => CHECKSUM.test(k));
      const key = keys.length ? rng.pick(keys) : null;
      if (!key) return { variant: 'none', detail: 'no checksum key', invalid: false };
      if (rng.chance(0.3)) {
        delete m[key];
        return { variant: 'stripped', detail: `metadata '${key}' removed (checksums are optional)`, invalid: false };
      }
      const s = String(m[key]);
      const i = rng.int(0, Math.max(0, s.length - 1));
      const c = s[i] === '0' ? '1' : '0';
      m[key] = s.slice(0, i) + c + s.slice(i + 1);
      return { variant: 'corrupted', detail: `metadata '${key}' char ${i} changed`, invalid: true };
    },
  },
];

export const mutationKinds = (): string[] => mutations.map((m) => m.kind);

function stripChecksums(doc: Doc): void {
  const m = metadataOf(doc);
  if (m) for (const k of Object.keys(m)) if (k !== CONFIG_KEY && k !== FORMAT_KEY && CHECKSUM.test(k)) delete m[k];
  for (const name of tensorNames(doc)) {
    const e = doc.header[name] as Record<string, unknown>;
    for (const k of Object.keys(e)) if (CHECKSUM.test(k)) delete e[k];
  }
}

// ---- cases ------------------------------------------------------------------------------------

export interface FuzzCase {
  seed: number;
  index: number;
  base: string;
  /** The base's input shape: the batch bitsPerDim gets when the loaded model's own shape is unusable. */
  baseShape: [number, number, number];
  kinds: string[];
  variants: string[];
  description: string;
  /** True when the file is definitely invalid: accepting it is a failure. */
  invalid: boolean;
  /** loadModel gets the path, or the bytes. */
  mode: 'path' | 'bytes';
  /** Not a regular file: the runner makes this path (mode is then 'path'). */
  special?: SpecialFile;
  bytes: Uint8Array;
}

/** Bases are weighted: the bundled model is the real thing but ten times slower than the tiny ones. */
const BASE_WEIGHT = (name: string): number => (name === 'bundled' ? 2 : 1.4);

/** Case `index` of `seed`: deterministic from those two and the base files. */
export function generateCase(bases: readonly BaseFile[], seed: number, index: number, only?: string): FuzzCase {
  const rng = new Prng(seed, index);
  const base = rng.weighted(bases.map((b) => [b, BASE_WEIGHT(b.name)] as const));
  const doc: Doc = { base, header: clone(base.header), data: base.data.slice(), headerReplace: [], pad: 'align', leading: '' };
  // Checksums are optional: a third of the cases drop them first, so the checks behind them
  // (non-finite weights, value ranges) are reached too.
  const stripped = base.hasChecksum && rng.chance(0.35);
  if (stripped) stripChecksums(doc);
  let checksummed = base.hasChecksum && !stripped;
  const usable = mutations.filter((m) => (!m.when || m.when(checksummed)) && (!only || m.kind === only));
  const count = only ? 1 : rng.weighted([[1, 70], [2, 22], [3, 8]] as const);
  const chosen: Mutation[] = [rng.weighted(usable.map((m) => [m, m.weight] as const))];
  if (!chosen[0]!.alone)
    while (chosen.length < count) {
      const m = rng.weighted(usable.filter((u) => !u.alone).map((u) => [u, u.weight] as const));
      if (!chosen.includes(m)) chosen.push(m);
    }
  chosen.sort((a, b) => a.phase - b.phase);
  const applied: Array<Applied & { kind: string }> = [];
  for (const m of chosen.filter((x) => x.apply)) {
    try {
      const a = m.apply!({ rng, doc, base, checksummed });
      applied.push({ kind: m.kind, ...a });
      if (m.kind === 'checksum' && a.variant === 'stripped') checksummed = false;
    } catch {
      // an earlier mutation removed what this one edits (architecture-missing, then resolution)
      applied.push({ kind: m.kind, variant: 'skipped', detail: 'nothing left to edit', invalid: false });
    }
  }
  const layout = serialize(doc);
  let bytes = layout.bytes;
  for (const m of chosen.filter((x) => x.raw)) {
    const r = m.raw!({ rng, bytes, layout, base, checksummed });
    bytes = r.bytes;
    applied.push({ kind: m.kind, variant: r.variant, detail: r.detail, invalid: r.invalid, special: r.special });
  }
  const special = applied.find((a) => a.special)?.special;
  const controlCopy = !stripped && applied.length === 1 && applied[0]!.kind === 'control' && applied[0]!.variant === 'copy';
  return {
    seed, index, base: stripped ? `${base.name}-nocrc` : base.name, baseShape: [...base.inputShape],
    kinds: applied.map((a) => a.kind),
    variants: applied.map((a) => `${a.kind}/${a.variant}`),
    description: applied.map((a) => `${a.kind}: ${a.detail}`).join(' + '),
    invalid: applied.some((a) => a.invalid),
    mode: rng.chance(0.5) || special ? 'path' : 'bytes',
    special,
    bytes: controlCopy ? base.bytes.slice() : bytes,
  };
}
