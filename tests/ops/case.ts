import type { Tensor } from '../../src/engine/tensor.js';

/**
 * One test case of an op, read by the parity, gradient and memory suites (tests/ops/ops.test.ts)
 * and by the benchmarks: tests/ops/<op>.cases.ts exports `cases: OpCase[]`.
 */
export interface OpCase {
  /** Shown in test names: the shape and attributes in brief. */
  name: string;
  inputs: readonly CaseInput[];
  /** Calls the public op on tensors made from `inputs` (the same call runs on every engine). */
  run: (xs: Tensor[]) => Tensor;
  /**
   * Which inputs get a finite-difference gradient check in float64 (default: all). false for ops
   * without a gradient (comparisons, random draws); indices to skip integer inputs such as gather indices.
   */
  grad?: boolean | readonly number[];
  /** Wider parity tolerance than the shared table, with the reason. */
  tolerance?: { abs: number; rel: number; why: string };
}

export interface CaseInput {
  shape: readonly number[];
  /** Uniform range of the random values (default [-1, 1)). */
  lo?: number;
  hi?: number;
  /** Exact values instead (indices, masks). */
  data?: readonly number[];
}
