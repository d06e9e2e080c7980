import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/atomic-write.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../../src/io/safetensors.js';

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

  it('writes atomically: the target is either old or new, never a torn temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inflow-atomic-'));
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old');
    writeFileAtomic(path, encodeSafetensors(sample()));
    expect(decodeSafetensors(readFileSync(path)).tensors.size).toBe(2);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });
});
