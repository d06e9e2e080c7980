import type { BinaryFn, ReduceFn, UnaryFn } from '../backend.js';

// Function codes shared with assembly/elementwise.ts and assembly/reduce.ts.
export const unaryCode: Record<UnaryFn, number> = {
  neg: 0, exp: 1, log: 2, sigmoid: 3, tanh: 4, relu: 5, softplus: 6, square: 7, sqrt: 8,
  abs: 9, sign: 10, step: 11, reciprocal: 12, affine: 13,
};
export const binaryCode: Record<BinaryFn, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, eq: 6, gt: 7 };
export const reduceCode: Record<ReduceFn, number> = { sum: 0, mean: 1, sumSquares: 2, max: 3 };

/** Exports the pre-registry glue (kernels.ts, conv.ts, solve.ts) calls by name; op files declare their own. */
export const legacyKernelNames = [
  'unary', 'binary', 'fill', 'reduce', 'copyRows', 'squeeze', 'unsqueeze', 'matmul', 'matmulPackB',
  'convPack', 'convPad', 'convOffsets', 'convForward', 'convGradFilter', 'solve',
] as const;
