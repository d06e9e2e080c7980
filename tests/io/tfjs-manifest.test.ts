import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/io/safetensors.js';
import { decodeTfjsWeights, loadTfjsWeights, parseTfjsManifest, type TfjsManifestGroup } from '../../src/io/tfjs-manifest.js';
import { readTfjsWeights } from '../../src/io/tfjs-weights-file.js';
import { fetchTfjsWeights } from '../../src/io/tfjs-weights-url.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { faceApiModels } from '../helpers/face-api-oracle.js';

const scratch = mkdtempSync(join(tmpdir(), 'inflow-tfjs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** float32 → IEEE half, for values that are exactly representable (the test picks them so). */
function toHalf(v: number): number {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  const sign = v < 0 ? 0x8000 : 0, a = Math.abs(v), e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

/** A hand-made manifest of every supported encoding, its shard bytes and the values it must decode to. */
function handMade(): { manifest: object[]; shard: Uint8Array; expected: Map<string, number[]> } {
  const f32 = [1.5, -2.25, 3e-8, 1e30];
  const i32 = [7, -9, 2 ** 31 - 1];
  const u8 = [0, 1, 128, 255], u8q = { dtype: 'uint8', scale: 0.1, min: -1.3 };
  const u16 = [0, 65535, 1234], u16q = { dtype: 'uint16', scale: 0.001, min: 2 };
  const f16 = [0.5, -3, 1024, 0.0009765625];
  const i32q = [3, 250], i32qq = { dtype: 'uint8', scale: 0.5, min: -0.25 };
  const bytes = new Uint8Array(16 + 12 + 4 + 6 + 8 + 2);
  const dv = new DataView(bytes.buffer);
  let at = 0;
  for (const v of f32) { dv.setFloat32(at, v, true); at += 4; }
  for (const v of i32) { dv.setInt32(at, v, true); at += 4; }
  for (const v of u8) bytes[at++] = v;
  for (const v of u16) { dv.setUint16(at, v, true); at += 2; }
  for (const v of f16) { dv.setUint16(at, toHalf(v), true); at += 2; }
  for (const v of i32q) bytes[at++] = v;
  const manifest = [{
    paths: ['w.bin'],
    weights: [
      { name: 'f32', shape: [2, 2], dtype: 'float32' },
      { name: 'i32', shape: [3], dtype: 'int32' },
      { name: 'u8', shape: [4, 1], dtype: 'float32', quantization: u8q },
      { name: 'u16', shape: [3], dtype: 'float32', quantization: u16q },
      { name: 'f16', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'i32q', shape: [2], dtype: 'int32', quantization: i32qq },
    ],
  }];
  const expected = new Map<string, number[]>([
    ['f32', f32.map(Math.fround)], ['i32', i32],
    ['u8', u8.map((q) => Math.fround(q * u8q.scale + u8q.min))],
    ['u16', u16.map((q) => Math.fround(q * u16q.scale + u16q.min))],
    ['f16', f16], ['i32q', i32q.map((q) => Math.round(q * i32qq.scale + i32qq.min))],
  ]);
  return { manifest, shard: bytes, expected };
}

const decode = (manifest: unknown, shards: Uint8Array[][], opts = {}) =>
  decodeTfjsWeights(parseTfjsManifest(JSON.stringify(manifest), 'm.json'), shards, 'm.json', opts);

describe('tfjs weight manifests', () => {
  it('decodes float32, int32 and uint8 / uint16 / float16 quantised weights (q · scale + min)', () => {
    const { manifest, shard, expected } = handMade();
    const w = decode(manifest, [[shard]]);
    expect([...w.keys()]).toEqual([...expected.keys()]);
    for (const [name, values] of expected) expect(Array.from(w.get(name)!.data), name).toEqual(values);
    expect(w.get('i32')!.data).toBeInstanceOf(Int32Array);
    expect(w.get('u8')!.shape).toEqual([4, 1]);
    // A group split over two shards reads as their concatenation.
    const split = structuredClone(manifest) as Array<{ paths: string[] }>;
    split[0]!.paths = ['a.bin', 'b.bin'];
    const two = decode(split, [[shard.subarray(0, 13), shard.subarray(13)]]);
    for (const [name, values] of expected) expect(Array.from(two.get(name)!.data)).toEqual(values);
  });

  it('matches tfjs-core\'s own decoder bit for bit on face-api\'s real manifests', async () => {
    await tf.setBackend('cpu');
    for (const model of ['tiny_face_detector_model', 'face_recognition_model']) {
      const text = readFileSync(join(faceApiModels, `${model}-weights_manifest.json`), 'utf8');
      const shard = readFileSync(join(faceApiModels, `${model}.bin`));
      const ours = decodeTfjsWeights(parseTfjsManifest(text, model), [[new Uint8Array(shard)]], model);
      const specs = (JSON.parse(text) as Array<{ weights: tf.io.WeightsManifestEntry[] }>)[0]!.weights;
      const theirs = tf.io.decodeWeights(shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength), specs);
      expect(ours.size).toBe(Object.keys(theirs).length);
      for (const [name, t] of Object.entries(theirs)) {
        expect(ours.get(name)!.shape, name).toEqual(t.shape);
        const a = ours.get(name)!.data, b = await t.data();
        // Bit for bit, compared as bytes: an element-wise toEqual over 6 M values takes half a minute.
        expect(a.constructor, name).toBe(b.constructor);
        expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)), name).toBe(0);
        t.dispose();
      }
    }
  });

  it('reads a manifest and its shard from disk; the TinyFaceDetector file has 193 321 values', async () => {
    const w = await readTfjsWeights(join(faceApiModels, 'tiny_face_detector_model-weights_manifest.json'));
    expect(w.size).toBe(19);
    expect([...w.values()].reduce((s, t) => s + t.data.length, 0)).toBe(193_321);
    expect(w.get('conv1/depthwise_filter')!.shape).toEqual([3, 3, 16, 1]);
  });

  it('downloads a manifest and its shards by URL, refusing a shard longer than the manifest needs', async () => {
    const { manifest, shard } = handMade();
    const long = new Uint8Array(shard.length + 5);
    long.set(shard);
    const files: Record<string, Uint8Array> = {
      '/m/good.json': new TextEncoder().encode(JSON.stringify(manifest)),
      '/m/w.bin': shard,
      '/m/long.json': new TextEncoder().encode(JSON.stringify([{ ...manifest[0], paths: ['long.bin'] }])),
      '/m/long.bin': long,
    };
    const server = createServer((req, res) => {
      const body = files[req.url ?? ''];
      res.writeHead(body ? 200 : 404);
      res.end(body ?? '');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`;
    try {
      const w = await fetchTfjsWeights(`${base}good.json`);
      expect(Array.from(w.get('u16')!.data)).toEqual(handMade().expected.get('u16'));
      await expect(fetchTfjsWeights(`${base}long.json`)).rejects.toThrow(/long.bin: 53 bytes is more than the 48 the weights shard may hold/);
      await expect(fetchTfjsWeights(`${base}none.json`)).rejects.toThrow(/none.json: the weights manifest could not be downloaded \(HTTP 404/);
      await expect(fetchTfjsWeights('not a url')).rejects.toThrow(/not a URL/);
    } finally {
      server.close();
    }
  });

  it('refuses truncated and over-long shards, naming the file', async () => {
    const { manifest, shard } = handMade();
    expect(() => decode(manifest, [[shard.subarray(0, shard.length - 1)]])).toThrow(/^m.json: 'w.bin' hold 47 bytes but the manifest's weights need 48 \(truncated\?\)$/);
    const long = new Uint8Array(shard.length + 3);
    long.set(shard);
    expect(() => decode(manifest, [[long]])).toThrow(/'w.bin' hold 51 bytes but the manifest's weights need only 48 \(wrong manifest/);
    writeFileSync(join(scratch, 'm.json'), JSON.stringify(manifest));
    writeFileSync(join(scratch, 'w.bin'), long);
    await expect(readTfjsWeights(join(scratch, 'm.json'))).rejects.toThrow(/w.bin: 51 bytes is more than the 48 that the manifest's weights still need/);
    rmSync(join(scratch, 'w.bin'));
    await expect(readTfjsWeights(join(scratch, 'm.json'))).rejects.toThrow(/w.bin: weights shard file not found/);
    await expect(readTfjsWeights(join(scratch, 'nothing.json'))).rejects.toThrow(/nothing.json: weights manifest file not found/);
    // The reader is asked for no more than the group still needs, so a huge file is never read.
    const asked: number[] = [];
    await loadTfjsWeights(JSON.stringify(manifest), async (_p, max) => { asked.push(max); return shard; }, 'm');
    expect(asked).toEqual([48]);
  });

  it('refuses bad dtypes, shapes, names, quantisation records and paths in one line each', () => {
    const one = (w: object, paths: unknown[] = ['w.bin']) => () => parseTfjsManifest(JSON.stringify([{ paths, weights: [w] }]), 'm.json');
    const ok = { name: 'w', shape: [2], dtype: 'float32' };
    expect(one({ ...ok, dtype: 'bool' })).toThrow(/^m.json: weight 'w': dtype "bool" is not supported \(float32 or int32\)$/);
    expect(one({ ...ok, dtype: 'string' })).toThrow(/dtype "string" is not supported/);
    expect(one({ ...ok, shape: [2 ** 20, 2 ** 20, 2 ** 20] })).toThrow(/weight 'w': shape \[1048576,1048576,1048576\] has more than 2147483648 elements/);
    expect(one({ ...ok, shape: [-1] })).toThrow(/shape \[-1\] must hold non-negative integers/);
    expect(one({ ...ok, shape: [1.5] })).toThrow(/must hold non-negative integers/);
    expect(one({ ...ok, shape: [1, 1, 1, 1, 1, 1, 1] })).toThrow(/rank 7 is more than 6/);
    expect(one({ ...ok, shape: 'x' })).toThrow(/shape "x" must be an array of sizes/);
    expect(one({ ...ok, name: '' })).toThrow(/weight name "" must be a non-empty string/);
    expect(one({ ...ok, quantization: { dtype: 'uint8', scale: 1 } })).toThrow(/weight 'w': uint8 quantisation needs a finite min, got undefined/);
    expect(one({ ...ok, quantization: { dtype: 'uint8', scale: null, min: 0 } })).toThrow(/needs a finite scale, got null/);
    expect(one({ ...ok, quantization: { dtype: 'int4', scale: 1, min: 0 } })).toThrow(/quantization dtype "int4" is not one of uint8, uint16, float16/);
    expect(one({ ...ok, dtype: 'int32', quantization: { dtype: 'float16' } })).toThrow(/float16 quantisation is only for float32 weights, not int32/);
    for (const p of ['../secret.bin', '/etc/passwd', 'a\\b.bin', 'https://x/y.bin', 'a//b', './w.bin'])
      expect(one(ok, [p]), p).toThrow(/must be a plain relative path beside the manifest/);
    expect(one(ok, [])).toThrow(/group 0 lists weights but no shard paths/);
    const dup = [{ paths: ['w.bin'], weights: [ok] }, { paths: ['v.bin'], weights: [ok] }];
    expect(() => parseTfjsManifest(JSON.stringify(dup), 'm.json')).toThrow(/^m.json: weight 'w' is listed twice$/);
    expect(() => parseTfjsManifest('{"a":', 'm.json')).toThrow(/^m.json: not a weights manifest: the JSON does not parse/);
    expect(() => parseTfjsManifest('[]', 'm.json')).toThrow(/expected a non-empty JSON array/);
    expect(() => parseTfjsManifest('['.repeat(100) + ']'.repeat(100), 'm.json')).toThrow(/nested deeper than 8 levels/);
    expect(() => parseTfjsManifest(new Uint8Array([0x5b, 0xff, 0x5d]), 'm.json')).toThrow(/the JSON does not parse/);
    expect(() => parseTfjsManifest('x'.repeat(16 * 2 ** 20 + 1), 'm.json')).toThrow(/larger than any weights manifest/);
    // A model.json's weightsManifest is read the same way.
    expect(parseTfjsManifest(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['w.bin'], weights: [ok] }] }))[0]!.weights[0]!.byteLength).toBe(8);
  });

  it('refuses non-finite float weights (unless asked) and weights over the byte limit', () => {
    const m: TfjsManifestGroup[] = parseTfjsManifest(JSON.stringify([{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32' }] }]));
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat32(4, NaN, true);
    expect(() => decodeTfjsWeights(m, [[bytes]], 'm.json')).toThrow(/^m.json: weight 'w' holds NaN at index 1 \(weights must be finite\)$/);
    expect(Number.isNaN(decodeTfjsWeights(m, [[bytes]], 'm.json', { finite: false }).get('w')!.data[1])).toBe(true);
    expect(() => decodeTfjsWeights(m, [[bytes]], 'm.json', { maxBytes: 4 })).toThrow(/the weights need 8 bytes decoded, more than the limit of 4/);
    expect(() => decodeTfjsWeights(m, [], 'm.json')).toThrow(/0 shard lists given for 1 groups/);
    expect(() => decodeTfjsWeights(m, [[bytes.subarray(0, 3)]], 'm.json')).toThrow(ModelFileError);
  });
});
