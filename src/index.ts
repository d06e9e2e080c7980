// Public signatures name WebGPU types (GPU, GPUDevice, …): the shipped .d.ts must pull them in for
// consumers, whose tsconfig does not list @webgpu/types (a dependency for this reason).
/// <reference types="@webgpu/types" preserve="true" />
export type { Backend, BackendName, Pad4 } from './backends/backend.js';
export type { KernelDef } from './engine/kernel.js';
export { createEngine, isSoftwareAdapter, type EngineOptions } from './engine/dispatcher.js';
export { Engine, type EngineInfo } from './engine/engine.js';
export { InflowError } from './engine/errors.js';
export { Tensor } from './engine/tensor.js';
export type { ValueAndGrads } from './engine/autograd.js';
export * as ops from './ops/index.js';
export * from './ops/index.js';
export * as layers from './layers/index.js';
export * as models from './models/index.js';
export * as nn from './nn/index.js';
export * as image from './image/index.js';
// Pretrained detectors from tfjs weight manifests (face-api's TinyFaceDetector), run on the engine.
export * as detect from './models/detect/index.js';
// Faces hidden in photos: masks and fills (blur, pixelate, solid, telea, diffusion inpainting).
export * as anonymizer from './anonymize/index.js';
// Licence plates: inflow's plate detector (plateDetectorFromBytes) and its tiled detection of large photos.
export * as plates from './models/plates/index.js';
// Class-conditional GAN (docs/gan.md): CBN, spectral norm, the projection discriminator, the losses, generator files as bytes.
export * as gan from './models/gan/index.js';
export { anonymize, type AnonymizeOptions, type AnonymizeResult, type FillMode } from './anonymize/anonymize.js';
export { decodeTfjsWeights, loadTfjsWeights, parseTfjsManifest, type TfjsWeight } from './io/tfjs-manifest.js';
export { fetchTfjsWeights } from './io/tfjs-weights-url.js';
