export { conv2d, conv2dGradFilter, conv2dGradInput, resolvePadding, type ConvOptions, type Padding } from './conv.js';
export {
  abs, add, affine, broadcastTo, div, equal, exp, greater, log, maximum, minimum, mul, neg, reciprocal, relu, sigmoid,
  sign, softplus, sqrt, square, step, sub, tanh,
} from './elementwise.js';
export { concat, slice, split, squeeze, unsqueeze } from './layout.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { max, mean, sum, sumSquares } from './reduce.js';
export { reshape, sumTo } from './shape-ops.js';
export { cornerFlips, solve, solveKernelMask, solveTranspose, type Corner, type SolveOptions } from './solve.js';
