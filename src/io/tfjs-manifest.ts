/**
 * TensorFlow.js weight manifests (`*-weights_manifest.json`, or the `weightsManifest` of a
 * `model.json`) and their binary shards, read without tfjs (docs/tfjs-weights.md). The manifest
 * and the shards are untrusted: every name, shape, dtype and quantisation record is checked, each
 * group's weights must tile its shards exactly, and shard paths may only name files beside the
 * manifest. Problems are one-line ModelFileErrors naming the source and the weight.
 */
import { MAX_RANK } from '../engine/shape.js';
import { ModelFileError, parseBoundedJson } from './safetensors.js';

export type TfjsDtype = 'float32' | 'int32';
export type TfjsQuantDtype = 'uint8' | 'uint16' | 'float16';

export interface TfjsQuantization {
  dtype: TfjsQuantDtype;
  /** uint8 / uint16 only: value = q · scale + min. */
  scale?: number;
  min?: number;
}

/** One weight as its manifest declares it, with the byte range it occupies in its group's shards. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: TfjsDtype;
  quantization?: TfjsQuantization;
  /** Bytes it takes in the shards (element count × stored element size). */
  byteLength: number;
}

/** A group: shards read one after the other as one byte string, holding `weights` in order. */
export interface TfjsManifestGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** A decoded weight: float32 values (int32 weights as Int32Array), row-major in the manifest's shape. */
export interface TfjsWeight {
  shape: number[];
  dtype: TfjsDtype;
  data: Float32Array | Int32Array;
}

/** Largest manifest text read (16 MiB): face-api's biggest is 28 KB. */
export const MAX_MANIFEST_BYTES = 16 * 2 ** 20;
/** Largest total of decoded weights (2 GiB, as the engine's default memory budget). */
export const MAX_TFJS_WEIGHT_BYTES = 2 ** 31;
const MAX_WEIGHTS = 100_000;
const MAX_NAME = 1000;
const MAX_DEPTH = 8;

const STORED_BYTES: Record<TfjsDtype | TfjsQuantDtype, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

const bad = (source: string, msg: string): never => {
  throw new ModelFileError(`${source}: ${msg}`);
};
const short = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A shard path must name a file in the manifest's own folder or below it: relative, no '..' or '.'
 * segments, no backslashes, no scheme or query, so a hostile manifest cannot reach other files.
 */
function checkShardPath(source: string, p: unknown, where: string): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_NAME) return bad(source, `${where}: shard path ${short(p)} must be a non-empty string`);
  const segments = p.split('/');
  if (p.startsWith('/') || /[\\:?#%\0]/.test(p) || segments.some((s) => s === '' || s === '.' || s === '..'))
    bad(source, `${where}: shard path ${short(p)} must be a plain relative path beside the manifest (no '/', '..', '\\', ':' or '?')`);
  return p;
}

function checkShape(source: string, name: string, shape: unknown): { shape: number[]; size: number } {
  if (!Array.isArray(shape)) return bad(source, `weight '${name}': shape ${short(shape)} must be an array of sizes`);
  if (shape.length > MAX_RANK) bad(source, `weight '${name}': rank ${shape.length} is more than ${MAX_RANK}`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) bad(source, `weight '${name}': shape ${short(shape)} must hold non-negative integers`);
    size *= d;
    // Checked per factor, so the product never leaves the exactly representable range.
    if (size > MAX_TFJS_WEIGHT_BYTES) bad(source, `weight '${name}': shape ${short(shape)} has more than ${MAX_TFJS_WEIGHT_BYTES} elements`);
  }
  return { shape: shape as number[], size };
}

function checkQuantization(source: string, name: string, dtype: TfjsDtype, q: unknown): TfjsQuantization {
  if (!isObject(q)) return bad(source, `weight '${name}': quantization ${short(q)} must be an object`);
  const qd = q.dtype;
  if (qd !== 'uint8' && qd !== 'uint16' && qd !== 'float16')
    bad(source, `weight '${name}': quantization dtype ${short(qd)} is not one of uint8, uint16, float16`);
  if (qd === 'float16') {
    if (dtype !== 'float32') bad(source, `weight '${name}': float16 quantisation is only for float32 weights, not ${dtype}`);
    return { dtype: 'float16' };
  }
  for (const key of ['scale', 'min'] as const)
    if (typeof q[key] !== 'number' || !Number.isFinite(q[key])) bad(source, `weight '${name}': ${qd} quantisation needs a finite ${key}, got ${short(q[key])}`);
  return { dtype: qd as 'uint8' | 'uint16', scale: q.scale as number, min: q.min as number };
}

/**
 * Parses and checks a weights manifest (the JSON array) or a tfjs model.json (its weightsManifest);
 * `source` names the file in every error. Nothing is read from the shards here.
 */
export function parseTfjsManifest(text: string | Uint8Array, source = 'weights manifest'): TfjsManifestGroup[] {
  const size = typeof text === 'string' ? text.length : text.byteLength;
  if (size > MAX_MANIFEST_BYTES) bad(source, `${size} bytes is larger than any weights manifest (limit ${MAX_MANIFEST_BYTES})`);
  let json: unknown;
  try {
    const str = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
    json = parseBoundedJson(str, MAX_DEPTH);
  } catch (e) {
    bad(source, `not a weights manifest: the JSON does not parse (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  const groupsRaw = isObject(json) && 'weightsManifest' in json ? json.weightsManifest : json;
  if (!Array.isArray(groupsRaw) || groupsRaw.length === 0) return bad(source, 'not a weights manifest: expected a non-empty JSON array of { paths, weights } groups');
  const names = new Set<string>();
  let count = 0;
  return groupsRaw.map((g, gi) => {
    const where = `group ${gi}`;
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) return bad(source, `${where} must be an object with arrays 'paths' and 'weights'`);
    const paths = g.paths.map((p) => checkShardPath(source, p, where));
    if (paths.length === 0 && g.weights.length > 0) bad(source, `${where} lists weights but no shard paths`);
    const weights = g.weights.map((w): TfjsWeightSpec => {
      if (!isObject(w)) return bad(source, `${where}: weight entry ${short(w)} must be an object`);
      const name = w.name;
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) return bad(source, `${where}: weight name ${short(name)} must be a non-empty string`);
      if (names.has(name)) bad(source, `weight '${name}' is listed twice`);
      names.add(name);
      if (++count > MAX_WEIGHTS) bad(source, `more than ${MAX_WEIGHTS} weights`);
      const dtype = w.dtype;
      if (dtype !== 'float32' && dtype !== 'int32') bad(source, `weight '${name}': dtype ${short(dtype)} is not supported (float32 or int32)`);
      const { shape, size } = checkShape(source, name, w.shape);
      const spec: TfjsWeightSpec = { name, shape, dtype: dtype as TfjsDtype, byteLength: 0 };
      if (w.quantization !== undefined) spec.quantization = checkQuantization(source, name, spec.dtype, w.quantization);
      spec.byteLength = size * STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
      return spec;
    });
    return { paths, weights };
  });
}

/** IEEE half → float (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** One weight's values from its bytes, dequantised as tfjs does (q · scale + min in float64, stored as float32). */
function decodeWeight(spec: TfjsWeightSpec, bytes: Uint8Array): Float32Array | Int32Array {
  const n = spec.byteLength / STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = spec.quantization;
  const out = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  if (!q) {
    for (let i = 0; i < n; i++) out[i] = spec.dtype === 'int32' ? dv.getInt32(4 * i, true) : dv.getFloat32(4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  } else {
    const scale = q.scale!, min = q.min!;
    for (let i = 0; i < n; i++) {
      const v = (q.dtype === 'uint8' ? bytes[i]! : dv.getUint16(2 * i, true)) * scale + min;
      out[i] = spec.dtype === 'int32' ? Math.round(v) : v;
    }
  }
  return out;
}

export interface DecodeTfjsOptions {
  /** Refuse NaN and ±Infinity in float weights, naming the weight (default true). */
  finite?: boolean;
  /** Most bytes the decoded weights may take (default MAX_TFJS_WEIGHT_BYTES). */
  maxBytes?: number;
}

/**
 * Decodes every weight of a parsed manifest from its shards: `shards[g][i]` holds the bytes of
 * groups[g].paths[i]. A group's shards must be exactly as long as its weights need: shorter is a
 * truncated download, longer means the manifest does not describe these files.
 */
export function decodeTfjsWeights(groups: readonly TfjsManifestGroup[], shards: readonly (readonly Uint8Array[])[], source = 'weights manifest',
  opts: DecodeTfjsOptions = {}): Map<string, TfjsWeight> {
  const maxBytes = opts.maxBytes ?? MAX_TFJS_WEIGHT_BYTES;
  const total = groups.reduce((t, g) => t + g.weights.reduce((s, w) => s + 4 * (w.byteLength / STORED_BYTES[w.quantization?.dtype ?? w.dtype]), 0), 0);
  if (total > maxBytes) bad(source, `the weights need ${total} bytes decoded, more than the limit of ${maxBytes}`);
  if (shards.length !== groups.length) bad(source, `${shards.length} shard lists given for ${groups.length} groups`);
  const out = new Map<string, TfjsWeight>();
  groups.forEach((g, gi) => {
    const files = shards[gi]!;
    if (files.length !== g.paths.length) bad(source, `group ${gi}: ${files.length} shards given for ${g.paths.length} paths`);
    const have = files.reduce((s, f) => s + f.byteLength, 0);
    const need = g.weights.reduce((s, w) => s + w.byteLength, 0);
    const names = g.paths.length === 1 ? `'${g.paths[0]}'` : `the shards of group ${gi} (${g.paths.join(', ')})`;
    if (have < need) bad(source, `${names} hold ${have} bytes but the manifest's weights need ${need} (truncated?)`);
    if (have > need) bad(source, `${names} hold ${have} bytes but the manifest's weights need only ${need} (wrong manifest for these shards?)`);
    const bytes = files.length === 1 ? files[0]! : concat(files, have);
    let at = 0;
    for (const w of g.weights) {
      const data = decodeWeight(w, bytes.subarray(at, at + w.byteLength));
      at += w.byteLength;
      if (opts.finite !== false && data instanceof Float32Array) {
        const bad_ = data.findIndex((v) => !Number.isFinite(v));
        if (bad_ >= 0) bad(source, `weight '${w.name}' holds ${data[bad_]} at index ${bad_} (weights must be finite)`);
      }
      out.set(w.name, { shape: [...w.shape], dtype: w.dtype, data });
    }
  });
  return out;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

/**
 * Reads a manifest and its shards through `read` (a file reader in Node, fetch in a browser) and
 * decodes them. `read(path, maxBytes)` gets each shard path as the manifest names it, relative to
 * the manifest, and should refuse a shard longer than maxBytes (the bytes the group still needs)
 * without reading it; decoding refuses it anyway.
 */
export async function loadTfjsWeights(manifest: string | Uint8Array, read: (path: string, maxBytes: number) => Promise<Uint8Array>,
  source = 'weights manifest', opts: DecodeTfjsOptions = {}): Promise<Map<string, TfjsWeight>> {
  const groups = parseTfjsManifest(manifest, source);
  const shards: Uint8Array[][] = [];
  for (const g of groups) {
    const need = g.weights.reduce((s, w) => s + w.byteLength, 0);
    const files: Uint8Array[] = [];
    let got = 0;
    // Each shard may hold at most the bytes still unaccounted for, so a path to a huge file is
    // refused before it is read.
    for (const p of g.paths) {
      const f = await read(p, Math.max(0, need - got));
      got += f.byteLength;
      files.push(f);
    }
    shards.push(files);
  }
  return decodeTfjsWeights(groups, shards, source, opts);
}
