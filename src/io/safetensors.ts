/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Everything read from a
 * file is checked against the file's own size before anything is allocated, and the tensors must
 * tile the data section exactly (docs/model-files.md), so a header that is off by a byte, a gap, an
 * overlap or trailing bytes are refused rather than read past. inflow writes a CRC-32 of every
 * tensor into the metadata and checks it on load when present.
 */
import { InflowError } from '../engine/errors.js';
import CRC32 from 'crc-32';
import { MAX_RANK } from '../engine/shape.js';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** A model, classifier or checkpoint file that cannot be used; the message names the file and what is wrong. */
export class ModelFileError extends InflowError {
  override name = 'ModelFileError';
}

const bad = (source: string, msg: string): never => {
  throw new ModelFileError(`${source}: ${msg}`);
};

/** A name or value from the file, short enough for a one-line message. */
const short = (text: string, max = 60): string => (text.length > max ? `${text.slice(0, max)}…` : text);
const json = (v: unknown): string => short(JSON.stringify(v) ?? String(v));

/** Largest JSON header read (100 MiB): a real one is a few hundred bytes per tensor. */
export const MAX_HEADER_BYTES = 100 * 2 ** 20;

/** Deepest nesting of the JSON header (a tensor entry needs 3). */
const MAX_HEADER_DEPTH = 32;

/** The metadata key holding the per-tensor CRC-32s: a JSON object { name: 8 hex digits }. */
export const CHECKSUM_KEY = 'inflow.crc32';

/** CRC-32 (IEEE 802.3, as zlib's crc32) of a byte range, unsigned. */
export const crc32 = (bytes: Uint8Array): number => CRC32.buf(bytes) >>> 0;

/**
 * Checksum-table key of a metadata entry. The config is covered too: an LU 1×1's permutation and
 * signs live there, and a flipped sign is as much corruption as a flipped weight.
 */
const metadataSumKey = (key: string) => `__metadata__.${key}`;
const textBytes = (text: string) => new TextEncoder().encode(text);

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * JSON.parse of untrusted text, refusing nesting deeper than `maxDepth` first: the parse itself
 * copes with any depth, but everything that walks the result afterwards (JSON.stringify, schema
 * checks) would overflow the stack on it. Throws a plain Error whose message says what is wrong.
 */
export function parseBoundedJson(text: string, maxDepth: number): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > maxDepth) throw new Error(`it is nested deeper than ${maxDepth} levels`);
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return JSON.parse(text);
}

export interface EncodeOptions {
  /** Write a CRC-32 of every tensor into the metadata (default true; docs/model-files.md). */
  checksums?: boolean;
}

/** Serialises float32 tensors and string metadata into one safetensors buffer. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {},
  opts: EncodeOptions = {}): Uint8Array {
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__' || name === '__proto__') throw new InflowError(`encodeSafetensors: a tensor cannot be named '${name}'`);
    const bytes = t.data.length * 4;
    entries[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const data = new Uint8Array(offset);
  const dv = new DataView(data.buffer);
  const sums: Record<string, string> = {};
  let at = 0;
  for (const [name, t] of tensors) {
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(at + i * 4, t.data[i]!, true);
    if (opts.checksums !== false) sums[name] = hex8(crc32(data.subarray(at, at + t.data.length * 4)));
    at += t.data.length * 4;
  }
  if (opts.checksums !== false) for (const [k, v] of Object.entries(metadata)) sums[metadataSumKey(k)] = hex8(crc32(textBytes(v)));
  const meta = opts.checksums !== false && tensors.size ? { ...metadata, [CHECKSUM_KEY]: JSON.stringify(sums) } : metadata;
  let json = JSON.stringify({ __metadata__: meta, ...entries });
  // Pad the header with spaces so the data starts 8-byte aligned (the format allows trailing spaces).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedArray>;
  /** The file's metadata, without the checksum entry (checked and removed). */
  metadata: Record<string, string>;
  /** Whether the file carried per-tensor checksums (all verified). */
  checksummed: boolean;
}

export interface DecodeOptions {
  /**
   * Refuse NaN and ±Infinity in any tensor, naming the tensor and the index of the first one
   * (model and classifier files; default false, since a generic state dict may hold masks of −∞).
   */
  finite?: boolean;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses and validates a safetensors buffer; `source` names the file in every error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'model file', opts: DecodeOptions = {}): DecodedSafetensors {
  if (bytes.length < 8) bad(source, `${bytes.length} bytes is too short for a safetensors file (truncated?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8))
    bad(source, `header claims ${headerLen} bytes but the file has only ${bytes.length - 8} after the length field (truncated or not safetensors)`);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) bad(source, `header claims ${headerLen} bytes, more than the ${MAX_HEADER_BYTES} any inflow file needs`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = parseBoundedJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)), MAX_HEADER_DEPTH);
  } catch (e) {
    bad(source, `header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad(source, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Array<{ name: string; shape: number[]; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__proto__') bad(source, "header has a key '__proto__', which no tensor may be named");
    if (name === '__metadata__') metadata = checkMetadata(source, entry);
    else entries.push({ name, ...checkEntry(source, name, entry, dataLen) });
  }
  checkCoverage(source, entries, dataLen);
  // Ranges, dtypes and shapes are all checked before anything is allocated, so a hostile header
  // cannot make the loader allocate more than the file's own size.
  const { [CHECKSUM_KEY]: sumsText, ...rest } = metadata;
  if (sumsText !== undefined) verifyChecksums(source, sumsText, entries, bytes.subarray(dataStart), rest);
  const tensors = new Map<string, NamedArray>();
  for (const { name, shape, begin, end } of entries) {
    const data = floats(bytes, dataStart + begin, (end - begin) / 4);
    if (opts.finite) {
      const i = data.findIndex((v) => !Number.isFinite(v));
      if (i >= 0)
        bad(source, `tensor '${short(name)}' holds ${data[i]} at index ${i}: the weights are corrupt (allowNonFinite: true loads them anyway, for debugging)`);
    }
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata: rest, checksummed: sumsText !== undefined };
}

/** The float32 values at a byte offset: a view where the bytes allow it (no copy), else a copy. */
function floats(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const at = bytes.byteOffset + offset;
  if (littleEndian && at % 4 === 0) return new Float32Array(bytes.buffer, at, count);
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, at, count * 4);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return data;
}

/** The tensors' byte ranges must tile [0, dataLen) exactly: no gap, no overlap, nothing after the last. */
function checkCoverage(source: string, entries: ReadonlyArray<{ name: string; begin: number; end: number }>, dataLen: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | null = null;
  for (const t of sorted) {
    if (t.begin < at) bad(source, `tensors '${short(prev ?? '')}' and '${short(t.name)}' overlap in the data section`);
    if (t.begin > at)
      bad(source, `bytes ${at}…${t.begin - 1} of the data section belong to no tensor (a gap before '${short(t.name)}': corrupt header or offsets)`);
    at = t.end;
    prev = t.name;
  }
  if (at !== dataLen)
    bad(source, `the data section has ${dataLen - at} byte${dataLen - at === 1 ? '' : 's'} after the last tensor (header length or offsets are off, or bytes were appended)`);
}

function verifyChecksums(source: string, text: string, entries: ReadonlyArray<{ name: string; begin: number; end: number }>, data: Uint8Array,
  metadata: Record<string, string>): void {
  let sums: unknown;
  try {
    sums = parseBoundedJson(text, 1);
  } catch {
    bad(source, `metadata '${CHECKSUM_KEY}' is not a JSON object of checksums`);
  }
  if (!sums || typeof sums !== 'object' || Array.isArray(sums)) bad(source, `metadata '${CHECKSUM_KEY}' is not a JSON object of checksums`);
  const table = sums as Record<string, unknown>;
  const names = new Set([...entries.map((e) => e.name), ...Object.keys(metadata).map(metadataSumKey)]);
  for (const k of Object.keys(table)) {
    if (names.has(k)) continue;
    if (k.startsWith(metadataSumKey(''))) bad(source, `metadata '${short(k.slice(metadataSumKey('').length))}' was removed (the checksum table lists it): the file is corrupt`);
    bad(source, `metadata '${CHECKSUM_KEY}' names '${short(k)}', which is not a tensor of the file`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    const want = table[metadataSumKey(key)];
    if (typeof want !== 'string' || !/^[0-9a-f]{8}$/.test(want)) bad(source, `metadata '${CHECKSUM_KEY}' has no valid checksum for metadata '${short(key)}'`);
    if (hex8(crc32(textBytes(value))) !== want) bad(source, `metadata '${short(key)}' fails its checksum: the file is corrupt`);
  }
  for (const { name, begin, end } of entries) {
    const want = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
    if (typeof want !== 'string' || !/^[0-9a-f]{8}$/.test(want)) bad(source, `metadata '${CHECKSUM_KEY}' has no valid checksum for tensor '${short(name)}'`);
    const got = hex8(crc32(data.subarray(begin, end)));
    if (got !== want) bad(source, `tensor '${short(name)}' fails its checksum (stored crc32 ${want as string}, the bytes give ${got}): the file is corrupt`);
  }
}

function checkMetadata(source: string, entry: unknown): Record<string, string> {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) bad(source, '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(entry as object)) {
    if (k === '__proto__') bad(source, "metadata has a key '__proto__', which is not allowed");
    if (typeof v !== 'string') bad(source, `metadata '${short(k)}' is not a string`);
  }
  return entry as Record<string, string>;
}

const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);

function checkEntry(source: string, fullName: string, entry: unknown, dataLen: number): { shape: number[]; begin: number; end: number } {
  const name = short(fullName);
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object' || Array.isArray(e)) bad(source, `tensor '${name}' has no description`);
  const extra = Object.keys(e).find((k) => !ENTRY_KEYS.has(k));
  if (extra !== undefined) bad(source, `tensor '${name}' has an unknown field '${extra}' (safetensors allows dtype, shape, data_offsets)`);
  if (e.dtype !== 'F32') bad(source, `tensor '${name}' has dtype ${e.dtype === undefined ? 'none' : json(e.dtype)}; inflow models store F32`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    bad(source, `tensor '${name}' has an invalid shape ${json(shape)}`);
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0))
    bad(source, `tensor '${name}' has invalid data_offsets ${json(offs)}`);
  const [begin, end] = offs as [number, number];
  if (end < begin || end > dataLen)
    bad(source, `tensor '${name}' data [${begin}, ${end}) lies outside the ${dataLen}-byte data section (truncated?)`);
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (numel * 4 !== end - begin) bad(source, `tensor '${name}' shape ${json(shape)} needs ${numel * 4} bytes but its range holds ${end - begin}`);
  return { shape: [...(shape as number[])], begin, end };
}

/**
 * The `inflow.format` metadata entry, read from the header alone (null when the bytes are not a
 * well-formed safetensors header or carry no such entry). Only a router's hint: the loader the
 * format names makes every check itself, so a file that lies here is still refused there.
 */
export function peekFormat(bytes: Uint8Array): string | null {
  if (bytes.length < 8) return null;
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) return null;
  try {
    const header: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(headerLen))));
    const format = (header as { __metadata__?: Record<string, unknown> } | null)?.__metadata__?.['inflow.format'];
    return typeof format === 'string' ? format : null;
  } catch {
    return null;
  }
}
