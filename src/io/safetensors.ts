/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data. Everything read from a
 * file is checked against the file's own size before anything is allocated.
 */
import { MAX_RANK } from '../engine/shape.js';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

const bad = (source: string, msg: string): never => {
  throw new ModelFileError(`${source}: ${msg}`);
};

/** Serialises float32 tensors and string metadata into one safetensors buffer. */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (the format allows trailing spaces).
  json += " ".repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const view = new DataView(out.buffer, at, t.data.length * 4);
    for (let i = 0; i < t.data.length; i++) view.setFloat32(i * 4, t.data[i]!, true);
    at += t.data.length * 4;
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

/** Parses and validates a safetensors buffer; `source` names the file in every error. */
export function decodeSafetensors(bytes: Uint8Array, source = 'model file'): DecodedSafetensors {
  if (bytes.length < 8) bad(source, `${bytes.length} bytes is too short for a safetensors file (truncated?)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8))
    bad(source, `header claims ${headerLen} bytes but the file has only ${bytes.length - 8} after the length field (truncated or not safetensors)`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    bad(source, `header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) bad(source, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Array<{ name: string; shape: number[]; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') metadata = checkMetadata(source, entry);
    else entries.push({ name, ...checkEntry(source, name, entry, dataLen) });
  }
  // All ranges are checked before anything is allocated, so a hostile header cannot make the
  // loader allocate more than the file's own size.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.begin < sorted[i - 1]!.end) bad(source, `tensors '${sorted[i - 1]!.name}' and '${sorted[i]!.name}' overlap in the data section`);
  const tensors = new Map<string, NamedArray>();
  for (const { name, shape, begin, end } of entries) {
    const count = (end - begin) / 4;
    const data = new Float32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    tensors.set(name, { shape, data });
  }
  return { tensors, metadata };
}

function checkMetadata(source: string, entry: unknown): Record<string, string> {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) bad(source, '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(entry as object)) if (typeof v !== 'string') bad(source, `metadata '${k}' is not a string`);
  return entry as Record<string, string>;
}

function checkEntry(source: string, name: string, entry: unknown, dataLen: number): { shape: number[]; begin: number; end: number } {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object') bad(source, `tensor '${name}' has no description`);
  if (e.dtype !== 'F32') bad(source, `tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; inflow models store F32`);
  const shape = e.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0) || shape.length > MAX_RANK)
    bad(source, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || offs.some((o) => !Number.isSafeInteger(o) || o < 0))
    bad(source, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
  const [begin, end] = offs as [number, number];
  if (end < begin || end > dataLen)
    bad(source, `tensor '${name}' data [${begin}, ${end}) lies outside the ${dataLen}-byte data section (truncated?)`);
  const numel = (shape as number[]).reduce((a, b) => a * b, 1);
  if (numel * 4 !== end - begin) bad(source, `tensor '${name}' shape ${JSON.stringify(shape)} needs ${numel * 4} bytes but its range holds ${end - begin}`);
  return { shape: shape as number[], begin, end };
}
