// One wasm module exports every kernel family; TypeScript owns all allocation.
export { heapBase, setTaskCounter } from './common';
export { unary, binary, fill } from './elementwise';
export { reduce } from './reduce';
export { copyRows, flip, squeeze, unsqueeze } from './layout';
export { matmul, matmulPackB } from './matmul';
export { convPack, convPad, convOffsets, convForward, convGradFilter } from './conv';
export { solve, solveScratchBytes } from './solve';
