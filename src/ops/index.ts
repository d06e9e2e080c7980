// Public op functions: the one import path for modules, layers and models. Every op file registers
// itself through the generated registry (bindings/build-ops.mjs); reshape and sumTo are views and
// reductions of views that run no kernel of their own (src/engine/views.ts).
export { reshape, sumTo } from '../engine/views.js';
export * from '../../bindings/generated/ops.js';
