/**
 * The package root for browsers and bundlers (package.json "exports" → "browser"): the engine API
 * plus model files as bytes. Nothing here imports a Node module; the WebGPU backend is a dynamic
 * import, so a page that never asks for it never downloads it.
 */
export * from './index.js';
export { modelToBytes as saveModel, parseModelBytes } from './io/model-bytes.js';
export { loadModel } from './io/model-url.js';
export { ModelFileError } from './io/safetensors.js';
export { setWasmUrls } from '../bindings/wasm-loader.js';
