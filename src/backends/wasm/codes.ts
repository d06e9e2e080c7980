import type { BinaryFn, ReduceFn, UnaryFn } from '../backend.js';

// Function codes shared with assembly/elementwise.ts and assembly/reduce.ts.
export const unaryCode: Record<UnaryFn, number> = {
  neg: 0, exp: 1, log: 2, sigmoid: 3, tanh: 4, relu: 5, softplus: 6, square: 7, sqrt: 8,
  abs: 9, sign: 10, step: 11, reciprocal: 12, affine: 13,
};
export const binaryCode: Record<BinaryFn, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, eq: 6, gt: 7 };
export const reduceCode: Record<ReduceFn, number> = { sum: 0, mean: 1, sumSquares: 2, max: 3 };

/** Every export the TypeScript side calls through the runner (index = op code in the control block). */
export const kernelNames = [
  'unary', 'binary', 'fill', 'reduce', 'copyRows', 'flip', 'squeeze', 'unsqueeze', 'matmul', 'matmulPackB',
  'convPack', 'convPad', 'convOffsets', 'convForward', 'convGradFilter', 'solve',
] as const;
