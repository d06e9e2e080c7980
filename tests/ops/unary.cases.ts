import {
  abs, affine, clamp, elu, erf, exp, gelu, leakyRelu, log, mul, neg, reciprocal, relu, selu, sigmoid, sign, silu, softplus,
  sqrt, square, step, sum, tanh,
} from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { CaseInput, OpCase } from './case.js';

// Every public unary function on shapes of rank 0–6 (batch 1 and 5, sizes not multiples of 4, so
// the wasm kernel's 1–3 element tails run), gradient-checked on ≤ 420 elements; wide-range cases
// (parity only) cross a 4096-element task boundary and reach the saturating tails; the derivative
// codes the gradient rules use are compared across backends through the gradient itself.

type Fn = (x: Tensor) => Tensor;
const fns: Array<[string, Fn, [number, number]]> = [
  ['neg', neg, [-2, 2]],
  ['exp', exp, [-3, 3]],
  ['log', log, [0.1, 3]],
  ['sigmoid', sigmoid, [-4, 4]],
  ['tanh', tanh, [-3, 3]],
  ['relu', relu, [-2, 2]],
  ['softplus', softplus, [-4, 4]],
  ['square', square, [-2, 2]],
  ['sqrt', sqrt, [0.05, 4]],
  ['abs', abs, [-2, 2]],
  ['sign', sign, [-2, 2]],
  ['step', step, [-2, 2]],
  ['reciprocal', reciprocal, [0.5, 2]],
  ['affine −1.75·x + 0.3', (x) => affine(x, -1.75, 0.3), [-2, 2]],
  ['erf', erf, [-3, 3]],
  ['silu', silu, [-5, 5]],
  ['gelu', (x) => gelu(x), [-5, 5]],
  ['gelu tanh', (x) => gelu(x, 'tanh'), [-5, 5]],
  ['leakyRelu 0.2', (x) => leakyRelu(x, 0.2), [-2, 2]],
  ['leakyRelu default', (x) => leakyRelu(x), [-2, 2]],
  ['elu 1.3', (x) => elu(x, 1.3), [-4, 2]],
  ['selu', selu, [-4, 2]],
  ['clamp [−0.5, 0.7]', (x) => clamp(x, -0.5, 0.7), [-1, 1]],
  ['clamp [−∞, 0.25]', (x) => clamp(x, -Infinity, 0.25), [-1, 1]],
];
const noGradient = new Set(['sign', 'step']);

const shapes = [[5, 3, 4, 7], [1, 3, 5, 7], [7], [3, 5], [2, 3, 5], [2, 1, 3, 2, 5], [1, 2, 1, 3, 2, 3], []];
const label = (s: readonly number[]): string => (s.length ? s.join('×') : 'scalar');

export const cases: OpCase[] = fns.map(([name, f, [lo, hi]], i): OpCase => {
  const shape = shapes[i % shapes.length]!;
  return { name: `${name} ${label(shape)}`, inputs: [{ shape, lo, hi }], run: ([x]) => f(x!), grad: !noGradient.has(name) };
});

// Wide ranges: 4099 elements (one full task of 4096 and a 3-element tail), parity only; the
// gradients are checked by the small cases above.
const wide: Array<[string, Fn, number, number]> = [
  ['exp', exp, -87, 88], ['log', log, 1e-3, 1e4], ['sigmoid', sigmoid, -95, 95], ['tanh', tanh, -12, 12],
  ['softplus', softplus, -95, 95], ['erf', erf, -6, 6], ['silu', silu, -95, 95], ['gelu', (x) => gelu(x), -12, 12],
  ['gelu tanh', (x) => gelu(x, 'tanh'), -12, 12], ['elu', (x) => elu(x, 0.7), -20, 5], ['selu', selu, -20, 5],
];
for (const [name, f, lo, hi] of wide)
  cases.push({ name: `${name} wide [${lo}, ${hi}] 1×4099`, inputs: [{ shape: [1, 4099], lo, hi }], run: ([x]) => f(x!), grad: false });

// Exact values in the tails and at the switch points of the piecewise approximations.
const tails = [-100, -88, -30, -9, -4, -1.0001, -1, -0.9999, -0.625, -0.3466, -1e-3, -1e-7, 0, 1e-7, 1e-3, 0.3466, 0.625,
  0.9999, 1, 1.0001, 4, 9, 30, 88, 100];
const tailInput: CaseInput = { shape: [tails.length], data: tails };
for (const [name, f] of [['sigmoid', sigmoid], ['tanh', tanh], ['softplus', softplus], ['erf', erf], ['silu', silu],
  ['gelu', (x: Tensor) => gelu(x)], ['gelu tanh', (x: Tensor) => gelu(x, 'tanh')], ['elu', (x: Tensor) => elu(x)], ['selu', selu]] as const)
  cases.push({ name: `${name} at tails and switch points`, inputs: [tailInput], run: ([x]) => f(x!), grad: false });
cases.push({
  name: 'exp at tails', inputs: [{ shape: [9], data: [-100, -87.5, -20, -1e-7, 0, 1e-7, 20, 80, 88.5] }], run: ([x]) => exp(x!), grad: false,
});
cases.push({
  name: 'log across magnitudes', inputs: [{ shape: [9], data: [1e-37, 1e-20, 1e-3, 0.7071, 1, 1.4142, 1e3, 1e20, 1e30] }],
  run: ([x]) => log(x!), grad: false,
});

/** ∂/∂x Σ f(x)·w: runs the derivative code behind f's gradient rule on the engine under test. */
const slopeOf = (f: Fn) => ([x, w]: Tensor[]): Tensor => {
  const { value, grads } = x!.engine.valueAndGrads(() => sum(mul(f(x!), w!)), [x!]);
  value.dispose();
  return grads[0]!;
};
const derivatives: Array<[string, Fn, number, number]> = [
  ['erf', erf, -4, 4], ['silu', silu, -20, 20], ['gelu', (x) => gelu(x), -8, 8], ['gelu tanh', (x) => gelu(x, 'tanh'), -8, 8],
  ['leakyRelu 0.1', (x) => leakyRelu(x, 0.1), -2, 2], ['elu 0.8', (x) => elu(x, 0.8), -10, 3], ['selu', selu, -10, 3],
  ['clamp [−1, 2]', (x) => clamp(x, -1, 2), -3, 3],
];
for (const [name, f, lo, hi] of derivatives)
  cases.push({
    name: `d${name}/dx 5×3×2×7`, inputs: [{ shape: [5, 3, 2, 7], lo, hi }, { shape: [5, 3, 2, 7] }], run: slopeOf(f),
    // The output is itself a gradient: the backward pass is not differentiated again.
    grad: false,
  });
