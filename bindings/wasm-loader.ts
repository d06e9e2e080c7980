/**
 * Loads the AssemblyScript kernels. Node compiles the bytes bindings/build-wasm.mjs embedded as
 * base64 (no fs, no path guessing). Browsers fetch the .wasm files the bundler emitted next to this
 * module, or URLs set with setWasmUrls(), so the core script does not carry the module twice; the
 * embedded copy is a lazily imported fallback for bundlers that do not emit `new URL(…, import.meta.url)` assets.
 */
import { isNode } from './node-only.js';

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

/** The embedded module bytes (a separate chunk in browser bundles: only fetched when needed). */
export async function wasmBytes(variant: WasmVariant): Promise<Uint8Array> {
  const { singleWasmBase64, threadsWasmBase64 } = await import('./generated/wasm-bytes.js');
  return decodeBase64(variant === 'single' ? singleWasmBase64 : threadsWasmBase64);
}

const userUrls: Partial<Record<WasmVariant, string | URL>> = {};

/**
 * Where browsers fetch the wasm modules from, e.g. a CDN: `setWasmUrls({ single: '…/inflow-single.wasm',
 * threads: '…/inflow-threads.wasm' })`. Takes effect for modules not compiled yet. The server must send
 * `application/wasm` for streaming compilation (other types still work, a little slower).
 */
export function setWasmUrls(urls: Partial<Record<WasmVariant, string | URL>>): void {
  for (const v of ['single', 'threads'] as const) {
    const url = urls[v];
    if (url !== undefined) {
      userUrls[v] = url;
      compiled.delete(v);
    }
  }
}

// Literal specifiers: bundlers (Vite, webpack 5, Parcel) emit these files as assets and rewrite the URLs.
const bundledUrl = (variant: WasmVariant): URL =>
  variant === 'single'
    ? new URL('./generated/inflow-single.wasm', import.meta.url)
    : new URL('./generated/inflow-threads.wasm', import.meta.url);

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where SIMD exists.
const simdProbe = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(simdProbe);
}

let warnedSingleThread = false;

/** Null when shared-memory threads can work here, otherwise why not (warned once per page in browsers). */
export function threadsUnavailableReason(): string | null {
  const why = sharedMemoryMissing();
  if (why && !isNode() && !warnedSingleThread) {
    warnedSingleThread = true;
    console.warn(`inflow: WebAssembly runs on one thread: ${why}. Serve the page with ` +
      '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" to use every core.');
  }
  return why;
}

function sharedMemoryMissing(): string | null {
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not crossOriginIsolated, so wasm memory cannot be shared with workers';
  }
  if (typeof SharedArrayBuffer === 'undefined') {
    return 'SharedArrayBuffer is unavailable (browsers need COOP/COEP headers: crossOriginIsolated)';
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
    m = isNode() ? compileEmbedded(variant) : compileFromUrl(variant);
    compiled.set(variant, m);
    m.catch(() => compiled.delete(variant));
  }
  return m;
}

async function compileEmbedded(variant: WasmVariant): Promise<WebAssembly.Module> {
  return WebAssembly.compile((await wasmBytes(variant)) as Uint8Array<ArrayBuffer>);
}

async function compileFromUrl(variant: WasmVariant): Promise<WebAssembly.Module> {
  const chosen = userUrls[variant];
  const url = chosen ?? bundledUrl(variant);
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const streaming = typeof WebAssembly.compileStreaming === 'function' &&
      (res.headers.get('content-type') ?? '').startsWith('application/wasm');
    return streaming ? await WebAssembly.compileStreaming(res) : await WebAssembly.compile(await res.arrayBuffer());
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (chosen !== undefined) throw new Error(`cannot load the ${variant} wasm module from ${String(url)}: ${why}`);
    return compileEmbedded(variant);
  }
}
