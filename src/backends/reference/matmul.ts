import type { KernelAttrs, View } from '../backend.js';
import { buf } from './storage.js';

export function matmul(inputs: readonly View[], out: View, attrs: KernelAttrs['matmul']): void {
  const [a, b] = inputs as [View, View];
  const A = buf(a), B = buf(b), Y = buf(out);
  const [batch, M, N] = out.shape as [number, number, number];
  const K = attrs.transposeA ? a.shape[1]! : a.shape[2]!;
  const aBatch = a.shape[0] === 1 ? 0 : M * K;
  const bBatch = b.shape[0] === 1 ? 0 : K * N;
  for (let t = 0; t < batch; t++) {
    const ao = t * aBatch, bo = t * bBatch;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = A[ao + (attrs.transposeA ? k * M + i : i * K + k)]!;
          const bv = B[bo + (attrs.transposeB ? j * K + k : k * N + j)]!;
          acc += av * bv;
        }
        Y[(t * M + i) * N + j] = acc;
      }
    }
  }
}
