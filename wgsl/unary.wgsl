// unary: y = f(x), one invocation per element. {{UNARY}} is the body of f(v) for the function code
// (src/ops/unary.ts). The helpers are the twins of assembly/util/transcendental.ts, with the same
// fitted polynomials (docs/ops/elementwise.md), written so that no intermediate overflows.

// σ(v) through e = e^−|v| ≤ 1: 1 / (1 + e) for v ≥ 0, e / (1 + e) below.
fn sigm(v: f32) -> f32 {
  let e = exp(-abs(v));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, v >= 0.0);
}

// tanh: x + x³·P(x²) below |x| = 0.625, else ±(1 − e) / (1 + e) with e = e^−2|x|.
fn tanh_(v: f32) -> f32 {
  let a = abs(v);
  let z = v * v;
  let small = v + z * v * (-0.3333328 + z * (0.13331442 + z * (-0.053739715 + z * (0.020639084 + z * -0.005704984))));
  let e = exp(-2.0 * a);
  return select(sign(v) * (1.0 - e) / (1.0 + e), small, a < 0.625);
}

// ln(1 + x) for 0 ≤ x ≤ 1: ln(u) · x / (u − 1) undoes the rounding of u = 1 + x.
fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  let d = u - 1.0;
  return select(log(u) * (x / d), x, d == 0.0);
}

// e^x − 1 with relative accuracy near 0.
fn expm1_(x: f32) -> f32 {
  let small = x + x * x * (0.49999994 + x * (0.16666521 + x * (0.04166839 + x * (0.00836871 + x * 0.0013814613))));
  return select(exp(x) - 1.0, small, abs(x) < 0.34657359);
}

// erf x for |x| < 1.
fn erf_small(x: f32) -> f32 {
  let z = x * x;
  return x + x * (0.12837917 + z * (-0.37612626 + z * (0.112835854 + z * (-0.026853811 + z * (0.0051883273
    + z * (-0.0008010192 + z * 7.853856e-05))))));
}

// erfc a for a ≥ 1: e^(−a²) · P(1 / (1 + a/2)).
fn erfc_large(a: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * a);
  let q = -4.103528e-06 + t * (0.2821994 + t * (0.28099075 + t * (0.2529676 + t * (0.15804063 + t * (0.10534422
    + t * (0.02505827 + t * (-0.18503922 + t * 0.08089075)))))));
  return exp(-a * a) * q;
}

fn erf_(v: f32) -> f32 {
  let a = abs(v);
  return select(sign(v) * (1.0 - erfc_large(a)), erf_small(v), a < 1.0);
}

// erfc a for a ≥ 0.
fn erfc_pos(a: f32) -> f32 {
  return select(erfc_large(a), 1.0 - erf_small(a), a < 1.0);
}

// Φ(v), the standard normal CDF, mirrored so that the lower tail keeps relative accuracy.
fn phi(v: f32) -> f32 {
  let h = 0.5 * erfc_pos(abs(v) * 0.70710678118654752);
  return select(h, 1.0 - h, v >= 0.0);
}

fn silu_grad(v: f32) -> f32 {
  let s = sigm(v);
  return s * (1.0 + v * (1.0 - s));
}

// d/dx x·σ(u), u = K(x + C·x³), K = 2·√(2/π), C = 0.044715.
fn gelu_tanh_grad(v: f32) -> f32 {
  let k = 1.5957691216057308;
  let s = sigm(k * (v + 0.044715 * v * v * v));
  return s + v * s * (1.0 - s) * k * (1.0 + 3.0 * 0.044715 * v * v);
}

// @kernel unary
struct P { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn f(v: f32) -> f32 {
  return {{UNARY}};
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = f(x[i]);
}
