/**
 * Loads the AssemblyScript kernels. The bytes are embedded (base64) by bindings/build-wasm.mjs, so
 * the same code runs in Node and browsers with no fs, fetch or bundler support for .wasm.
 */
import { singleWasmBase64, threadsWasmBase64 } from './generated/wasm-bytes.js';

export type WasmVariant = 'single' | 'threads';

function decodeBase64(b64: string): Uint8Array {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  // Very old runtimes without atob: Node's Buffer, reached through globalThis so bundlers leave it alone.
  const B = (globalThis as unknown as { Buffer: { from(s: string, enc: string): Uint8Array } }).Buffer;
  return new Uint8Array(B.from(b64, 'base64'));
}

export function wasmBytes(variant: WasmVariant): Uint8Array {
  return decodeBase64(variant === 'single' ? singleWasmBase64 : threadsWasmBase64);
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where SIMD exists.
const simdProbe = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(simdProbe);
}

/** Null when shared-memory threads can work here, otherwise why not. */
export function threadsUnavailableReason(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') {
    return 'SharedArrayBuffer is unavailable (browsers need COOP/COEP headers: crossOriginIsolated)';
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'page is not crossOriginIsolated, so wasm memory cannot be shared with workers';
  }
  if (typeof Atomics === 'undefined') return 'Atomics is unavailable';
  return null;
}

const compiled = new Map<WasmVariant, Promise<WebAssembly.Module>>();

/** Compiles once per variant and process (async: browsers refuse large synchronous compiles). */
export function compileWasm(variant: WasmVariant): Promise<WebAssembly.Module> {
  let m = compiled.get(variant);
  if (!m) {
    if (!simdSupported()) return Promise.reject(new Error('this WebAssembly engine has no SIMD (the kernels need simd128)'));
    m = WebAssembly.compile(wasmBytes(variant) as Uint8Array<ArrayBuffer>);
    compiled.set(variant, m);
  }
  return m;
}
