import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export { tf };

export interface TfjsFacts {
  version: string;
  backend: string;
  simd: boolean;
  multithread: boolean;
  wasmPath: string;
}

/**
 * tfjs-backend-wasm (XNNPACK) from node_modules: setWasmPaths gets a directory so Emscripten reads
 * the .wasm from disk and nothing is fetched. Its threaded build needs browser workers, so in Node
 * it reports no multithread support and runs single-threaded; that is recorded, not forced.
 */
export async function initTfjs(): Promise<TfjsFacts> {
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  setWasmPaths(wasmPath);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
  await tf.ready();
  return {
    version: tf.version_core,
    backend: tf.getBackend(),
    simd: !!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    multithread: !!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    wasmPath,
  };
}

/** NCHW → NHWC, done once outside the timing. */
export function nchwToNhwc(x: Float32Array, [N, C, H, W]: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < C!; c++)
      for (let h = 0; h < H!; h++)
        for (let w = 0; w < W!; w++) out[((n * H! + h) * W! + w) * C! + c] = x[((n * C! + c) * H! + h) * W! + w]!;
  return out;
}

/** Conv weights [Co, Ci, kh, kw] → tfjs filter [kh, kw, Ci, Co]. */
export function oihwToHwio(w: Float32Array, [Co, Ci, kh, kw]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < Co!; o++)
    for (let i = 0; i < Ci!; i++)
      for (let a = 0; a < kh!; a++)
        for (let b = 0; b < kw!; b++) out[((a * kw! + b) * Ci! + i) * Co! + o] = w[((o * Ci! + i) * kh! + a) * kw! + b]!;
  return out;
}
