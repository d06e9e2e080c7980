import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/atomic-write.js';
import { CHECKSUM_KEY, crc32, decodeSafetensors, encodeSafetensors, parseBoundedJson, type NamedArray } from '../../src/io/safetensors.js';

const sample = (): Map<string, NamedArray> => new Map([
  ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5e-8, -6]) }],
  ['b', { shape: [4], data: Float32Array.from([0.25, Math.PI, -1e20, 7]) }],
]);

/** A safetensors file with a hand-written header, for malformed cases. */
function withHeader(header: object, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors', () => {
  it('round-trips tensors and metadata exactly, data 8-byte aligned', () => {
    const bytes = encodeSafetensors(sample(), { config: '{"kind":"x"}' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ config: '{"kind":"x"}' });
    for (const [name, t] of sample()) {
      expect(tensors.get(name)!.shape).toEqual(t.shape);
      expect(Array.from(tensors.get(name)!.data)).toEqual(Array.from(t.data));
    }
  });

  it('refuses truncated files, long headers, out-of-range and overlapping offsets, bad dtypes and shapes', () => {
    const good = encodeSafetensors(sample());
    expect(() => decodeSafetensors(good.subarray(0, 5), 'm.safetensors')).toThrow(/m.safetensors: 5 bytes is too short/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4), 'm')).toThrow(/lies outside the .*data section \(truncated\?\)/);
    const long = good.slice();
    new DataView(long.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeSafetensors(long, 'm')).toThrow(/header claims 1099511627776 bytes but the file has only/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), 'm'))
      .toThrow(/tensor 'w' data \[0, 8\) lies outside the 4-byte data section/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, 4), 'm'))
      .toThrow(/tensor 'w' has dtype "F16"; inflow models store F32/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'm'))
      .toThrow(/tensor 'w' shape \[3\] needs 12 bytes but its range holds 8/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'm'))
      .toThrow(/invalid shape/);
    expect(() => decodeSafetensors(withHeader({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, 12), 'm')).toThrow(/tensors 'a' and 'b' overlap/);
    const garbage = withHeader({}, 0);
    garbage[9] = 0xff;
    expect(() => decodeSafetensors(garbage, 'm')).toThrow(/header is not valid JSON/);
  });

  it('tensors must tile the data section exactly: gaps and trailing bytes are refused', () => {
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'm'))
      .toThrow(/^m: bytes 0…3 of the data section belong to no tensor \(a gap before 'w'/);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 5), 'm'))
      .toThrow(/^m: the data section has 1 byte after the last tensor/);
    expect(() => decodeSafetensors(withHeader({}, 3), 'm')).toThrow(/^m: the data section has 3 bytes after the last tensor/);
    expect(decodeSafetensors(withHeader({ e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }, 0), 'm').tensors.get('e')!.data.length).toBe(0);
    expect(() => decodeSafetensors(withHeader({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, 4), 'm'))
      .toThrow(/^m: tensor 'w' has an unknown field 'extra'/);
    expect(() => decodeSafetensors(withHeader(JSON.parse('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), 4), 'm'))
      .toThrow(/^m: header has a key '__proto__'/);
  });

  it('writes a CRC-32 per tensor, verifies it on load and hides it from the metadata', () => {
    expect(crc32(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
    const bytes = encodeSafetensors(sample(), { config: 'x' });
    const { metadata, checksummed } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ config: 'x' });
    expect(checksummed).toBe(true);
    const flipped = bytes.slice();
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 1;
    expect(() => decodeSafetensors(flipped, 'm')).toThrow(/^m: tensor 'b' fails its checksum \(stored crc32 [0-9a-f]{8}, the bytes give [0-9a-f]{8}\): the file is corrupt$/);
    expect(decodeSafetensors(encodeSafetensors(sample(), {}, { checksums: false })).checksummed).toBe(false);
    const bogus = withHeader({ __metadata__: { [CHECKSUM_KEY]: '{"w":"zz"}' }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4);
    expect(() => decodeSafetensors(bogus, 'm')).toThrow(/^m: metadata 'inflow\.crc32' has no valid checksum for tensor 'w'$/);
  });

  it('refuses non-finite values when asked, naming the tensor and index', () => {
    const t = new Map([['w', { shape: [3], data: Float32Array.from([1, -Infinity, NaN]) }]]);
    expect(decodeSafetensors(encodeSafetensors(t)).tensors.get('w')!.data[1]).toBe(-Infinity);
    expect(() => decodeSafetensors(encodeSafetensors(t), 'm', { finite: true })).toThrow(/^m: tensor 'w' holds -Infinity at index 1/);
  });

  it('parses JSON with a bound on nesting (deep input would overflow the stack of whatever walks it)', () => {
    expect(parseBoundedJson('{"a":[1,{"b":"[[[["}]}', 3)).toEqual({ a: [1, { b: '[[[[' }] });
    expect(() => parseBoundedJson('[[[[1]]]]', 3)).toThrow(/nested deeper than 3 levels/);
    expect(() => parseBoundedJson(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 32)).toThrow(/nested deeper than 32 levels/);
  });

  it('writes atomically: the target is either old or new, never a torn temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inflow-atomic-'));
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old');
    writeFileAtomic(path, encodeSafetensors(sample()));
    expect(decodeSafetensors(readFileSync(path)).tensors.size).toBe(2);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });
});
