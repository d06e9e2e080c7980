// The README's "The engine underneath", runnable with plain node:
//   npm run build && node examples/engine.mjs     (in this repository)
//   node engine.mjs                               (in a project that installed inflow)
// The gradient of a loss through the FInC wavefront solve with respect to its kernel.
import { createEngine, mean, solve, square } from 'inflow';

// Fixed pseudo-random numbers, so every run prints the same values.
let state = 1;
const uniform = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;

const data = Float32Array.from({ length: 16 * 4 * 14 * 14 }, uniform);
// Small off-centre taps keep the triangular system well conditioned (README: "How exact is it?").
const kernel = Float32Array.from({ length: 4 * 1 * 3 * 3 }, () => 0.1 * uniform());

const engine = await createEngine({ backend: 'wasm', threads: 2 });
const y = engine.tensor(data, [16, 4, 14, 14]);            // float32, NCHW
const K = engine.tensor(kernel, [4, 1, 3, 3]);             // 4 FInC groups of 1 channel, k = 3
const { value, grads } = engine.valueAndGrads(
  () => mean(square(solve(y, K, { groups: 4, corners: ['tl', 'tr', 'bl', 'br'], unitDiag: true }))),
  [K],
);
console.log(await value.item(), engine.memory());          // live tensors, buffers, bytes
console.log(`gradient [${grads[0].shape}], |dL/dK|₁ = ${(await grads[0].data()).reduce((s, g) => s + Math.abs(g), 0).toFixed(6)}`);
engine.dispose();
