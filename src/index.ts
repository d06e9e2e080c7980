export type { Backend, BackendName, KernelAttrs, KernelName, Pad4 } from './backends/backend.js';
export { createEngine, isSoftwareAdapter, type EngineOptions } from './engine/dispatcher.js';
export { Engine, type EngineInfo } from './engine/engine.js';
export { InflowError } from './engine/errors.js';
export { Tensor } from './engine/tensor.js';
export type { ValueAndGrads } from './engine/autograd.js';
export * as ops from './engine/ops/index.js';
export * from './engine/ops/index.js';
