// Public op functions: the one import path for modules, layers and models. Op files register
// themselves through the generated registry (bindings/build-ops.mjs); the rest are the ops written
// before op files, still in src/engine/ops.
export * from '../engine/ops/index.js';
export * from '../../bindings/generated/ops.js';
