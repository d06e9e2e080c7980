// f32x4 exp, expm1, log, log1p, tanh, sigmoid, erf and erfc for the elementwise kernels (not
// exported from the module). Polynomials are weighted minimax fits (Lawson iterations on a dense
// grid) of the remainder each range reduction leaves, rounded to f32 and evaluated without FMA;
// docs/ops/elementwise.md gives the ranges and the measured errors, and
// tests/kernels/transcendental.test.ts checks them against float64 over sweeps of each domain.
// Every function computes all its branches and blends them with lane masks; ±inf and NaN lanes
// give what the float64 reference gives.

@inline function sp(v: f32): v128 {
  return f32x4.splat(v);
}

@inline function mad(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

const LOG2E: f32 = 1.4426950408889634;
// ln 2 split so that n · LN2_HI is exact for |n| < 2^15 (LN2_HI has 9 significant bits).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440054690583e-4;

/** (e^r − 1 − r) / r² on |r| ≤ ln2 / 2, relative error 3e-9 of e^r. */
@inline function expTail(r: v128): v128 {
  let p = sp(0.0013814613);
  p = mad(p, r, sp(0.00836871));
  p = mad(p, r, sp(0.04166839));
  p = mad(p, r, sp(0.16666521));
  return mad(p, r, sp(0.49999994));
}

/**
 * e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by polynomial, then two multiplications by 2^(n/2) so
 * that results between 2^−149 and 2^−126 come out as denormals and results above 2^128 as +inf
 * without special cases. Max error 0.9 ulp; −inf → 0, +inf → +inf, NaN → NaN.
 */
@inline export function exp4(x: v128): v128 {
  // pmax/pmin (x < lo ? lo : x) pass NaN through and cost one instruction each.
  const c = f32x4.pmin(f32x4.pmax(x, sp(-104.0)), sp(89.0));
  const n = f32x4.nearest(f32x4.mul(c, sp(LOG2E)));
  return expReduced(n, f32x4.sub(f32x4.sub(c, f32x4.mul(n, sp(LN2_HI))), f32x4.mul(n, sp(LN2_LO))));
}

/** e^(n·ln2 + r) for integral n and |r| ≲ ln2/2. */
@inline function expReduced(n: v128, r: v128): v128 {
  const e = f32x4.add(sp(1.0), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), expTail(r))));
  const k = i32x4.trunc_sat_f32x4_s(n);
  const k1 = i32x4.shr_s(k, 1);
  const k2 = i32x4.sub(k, k1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(k1, bias), 23), s2 = i32x4.shl(i32x4.add(k2, bias), 23);
  return f32x4.mul(f32x4.mul(e, s1), s2);
}

/**
 * e^(−s·v²) for s = 1 or ½ without the rounding of v² in the exponent (which would cost up to
 * v²·2^−24 relative, 64 ulp at v = 8): v = h + l with h the top 12 significant bits of v, so s·h²
 * is exact and the small rest s·(v − h)(v + h) joins after the exact range reduction of s·h².
 */
@inline export function gauss4(v: v128, s: f32): v128 {
  const a = f32x4.pmin(f32x4.abs(v), sp(1.0e4)); // keeps NaN; the result is 0 long before 1e4
  const h = v128.and(a, i32x4.splat(0xfffff000));
  const hi = f32x4.mul(f32x4.mul(h, h), sp(-s));
  const lo = f32x4.mul(f32x4.mul(f32x4.sub(a, h), f32x4.add(a, h)), sp(-s));
  const sum = f32x4.add(hi, lo);
  const n = f32x4.nearest(f32x4.mul(f32x4.pmax(sum, sp(-104.0)), sp(LOG2E)));
  const r = f32x4.add(f32x4.sub(f32x4.sub(hi, f32x4.mul(n, sp(LN2_HI))), f32x4.mul(n, sp(LN2_LO))), lo);
  // Below e^−103.9 the result is 0 (there n was clamped and r is not reduced).
  return v128.andnot(expReduced(n, r), f32x4.lt(sum, sp(-103.9)));
}

/** e^x − 1, keeping relative accuracy near 0 (the polynomial without its leading 1 there). */
@inline export function expm14(x: v128): v128 {
  const near = f32x4.lt(f32x4.abs(x), sp(0.34657359));
  const small = f32x4.add(x, f32x4.mul(f32x4.mul(x, x), expTail(x)));
  return v128.bitselect(small, f32x4.sub(exp4(x), sp(1.0)), near);
}

/** (log(1+f) − f + f²/2) / f³ on f ∈ [√½ − 1, √2 − 1], relative error 6e-9 of log(1+f). */
@inline function logTail(f: v128): v128 {
  let p = sp(-0.07634496);
  p = mad(p, f, sp(0.1276158));
  p = mad(p, f, sp(-0.13160184));
  p = mad(p, f, sp(0.14201757));
  p = mad(p, f, sp(-0.16623357));
  p = mad(p, f, sp(0.20001227));
  p = mad(p, f, sp(-0.2500082));
  return mad(p, f, sp(0.3333333));
}

/**
 * ln x: x = 2^e · m with m ∈ [√½, √2), ln m = f − f²/2 + f³·P(f), f = m − 1 (exact), plus e·ln2
 * in two parts. Denormal inputs are scaled by 2^23 first. Max error 0.9 ulp; 0 → −inf,
 * negative or NaN → NaN, +inf → +inf.
 */
@inline export function log4(x: v128): v128 {
  const tiny = f32x4.lt(x, sp(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, sp(8388608.0)), x, tiny);
  let e = i32x4.sub(v128.and(i32x4.shr_u(xs, 23), i32x4.splat(255)), v128.bitselect(i32x4.splat(150), i32x4.splat(127), tiny));
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const big = f32x4.gt(m, sp(1.41421356));
  m = v128.bitselect(f32x4.mul(m, sp(0.5)), m, big);
  e = i32x4.sub(e, big); // the mask is −1 in lanes that were halved
  const f = f32x4.sub(m, sp(1.0));
  const ef = f32x4.convert_i32x4_s(e);
  const f2 = f32x4.mul(f, f);
  let y = f32x4.mul(f32x4.mul(f2, f), logTail(f));
  y = f32x4.add(y, f32x4.mul(ef, sp(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(sp(0.5), f2));
  y = f32x4.add(f, y);
  y = f32x4.add(y, f32x4.mul(ef, sp(LN2_HI)));
  y = v128.bitselect(sp(-Infinity as f32), y, f32x4.eq(x, sp(0.0)));
  y = v128.bitselect(x, y, f32x4.eq(x, sp(Infinity as f32)));
  return v128.bitselect(sp(NaN as f32), y, v128.or(f32x4.lt(x, sp(0.0)), f32x4.ne(x, x)));
}

/**
 * ln(1 + x) for x ≥ 0 with relative accuracy near 0: u = 1 + x rounds, and ln(u) · x / (u − 1)
 * corrects for that rounding (exact when u − 1 = x); where u rounds to 1, ln(1 + x) = x.
 */
@inline export function log1p4(x: v128): v128 {
  const u = f32x4.add(sp(1.0), x);
  const d = f32x4.sub(u, sp(1.0));
  return v128.bitselect(x, f32x4.mul(log4(u), f32x4.div(x, d)), f32x4.eq(d, sp(0.0)));
}

/** (tanh x − x) / x³ as a polynomial in x² on |x| < 0.625, relative error 4e-9. */
@inline function tanhTail(z: v128): v128 {
  let p = sp(-0.005704984);
  p = mad(p, z, sp(0.020639084));
  p = mad(p, z, sp(-0.053739715));
  p = mad(p, z, sp(0.13331442));
  return mad(p, z, sp(-0.3333328));
}

/**
 * tanh x: |x| + |x|³·P(x²) below |x| = 0.625, else 1 − 2 / (e^(2|x|) + 1), which saturates to 1
 * once e^(2|x|) overflows; then x's sign (so tanh −0 = −0). Max error 1.3 ulp.
 */
@inline export function tanh4(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  const small = f32x4.add(a, f32x4.mul(f32x4.mul(z, a), tanhTail(z)));
  const e = exp4(f32x4.add(a, a));
  const large = f32x4.sub(sp(1.0), f32x4.div(sp(2.0), f32x4.add(e, sp(1.0))));
  return v128.or(v128.bitselect(small, large, f32x4.lt(a, sp(0.625))), v128.and(x, i32x4.splat(0x80000000)));
}

/**
 * σ(x) = 1 / (1 + e^−x), through e = e^−|x| ≤ 1 so that neither tail overflows: 1 / (1 + e) for
 * x ≥ 0, e / (1 + e) below (one division either way). Max error 1.6 ulp, relative in both tails.
 */
@inline export function sigmoid4(x: v128): v128 {
  const e = exp4(f32x4.neg(f32x4.abs(x)));
  return f32x4.div(v128.bitselect(sp(1.0), e, f32x4.ge(x, sp(0.0))), f32x4.add(sp(1.0), e));
}

/** (erf x − x) / x as a polynomial in x² on |x| < 1, relative error 1.2e-9. */
@inline function erfSmall(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = sp(7.853856e-05);
  p = mad(p, z, sp(-0.0008010192));
  p = mad(p, z, sp(0.0051883273));
  p = mad(p, z, sp(-0.026853811));
  p = mad(p, z, sp(0.112835854));
  p = mad(p, z, sp(-0.37612626));
  p = mad(p, z, sp(0.12837917));
  return f32x4.add(x, f32x4.mul(x, p));
}

/**
 * erfc a for a ≥ 1 as g · P(t), g = e^(−a²) (passed in: gauss4 of a, or of x when a = |x|/√2),
 * t = 1 / (1 + a/2) ∈ (0, ⅔], P fitted to e^(a²)·erfc(a) on [1, 10] (relative error 6e-9).
 */
@inline function erfcLarge(a: v128, g: v128): v128 {
  const t = f32x4.div(sp(1.0), mad(a, sp(0.5), sp(1.0)));
  let p = sp(0.08089075);
  p = mad(p, t, sp(-0.18503922));
  p = mad(p, t, sp(0.02505827));
  p = mad(p, t, sp(0.10534422));
  p = mad(p, t, sp(0.15804063));
  p = mad(p, t, sp(0.2529676));
  p = mad(p, t, sp(0.28099075));
  p = mad(p, t, sp(0.2821994));
  p = mad(p, t, sp(-4.103528e-06));
  return f32x4.mul(g, p);
}

/** erf x: the small-argument polynomial below |x| = 1, ±(1 − erfc |x|) above. Max error 1.5 ulp; ±inf → ±1. */
@inline export function erf4(x: v128): v128 {
  const a = f32x4.abs(x);
  const large = v128.or(f32x4.sub(sp(1.0), erfcLarge(a, gauss4(a, 1.0))), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(erfSmall(x), large, f32x4.lt(a, sp(1.0)));
}

/**
 * Φ(x), the standard normal CDF: h = ½·erfc(|x|/√2), then 1 − h or h, so the lower tail keeps
 * relative accuracy. e^(−x²/2) is taken from x itself, not from the rounded |x|/√2.
 */
@inline export function normalCdf4(x: v128): v128 {
  const a = f32x4.mul(f32x4.abs(x), sp(0.70710678118654752));
  const erfc = v128.bitselect(f32x4.sub(sp(1.0), erfSmall(a)), erfcLarge(a, gauss4(x, 0.5)), f32x4.lt(a, sp(1.0)));
  const h = f32x4.mul(sp(0.5), erfc);
  return v128.bitselect(f32x4.sub(sp(1.0), h), h, f32x4.ge(x, sp(0.0)));
}

// The exp of the reductions (softmax, logsumexp, attention), whose arguments are x − max ≤ 0:
// fewer operations than exp4, at ≈ 2e-7 relative error and with denormal results flushed to 0.

/**
 * e^x in four f32 lanes for x ≤ 88.37 (every caller passes x − max ≤ 0): x = n·ln 2 + r with n
 * rounded by a magic-number add (which also places 2^n in the exponent bits), ln 2 split in two
 * for an exact reduction, and a degree-5 minimax polynomial for e^r (the rr2-p5 scheme of
 * XNNPACK's softmax kernels; relative error ≈ 2e-7). Below −87.34 the result is flushed to 0 (no
 * denormals); −∞ gives 0 and NaN stays NaN. No upper clamp: it costs 15 % of a softmax.
 */
@inline
export function expf4(x: v128): v128 {
  const magic = f32x4.splat(12582912.0 + 127.0); // 1.5·2^23 + the exponent bias
  const nb = f32x4.add(f32x4.mul(x, f32x4.splat(1.4426950216293335)), magic);
  const s = i32x4.shl(nb, 23);
  const n = f32x4.sub(nb, magic);
  let r = f32x4.add(f32x4.mul(n, f32x4.splat(-0.693145751953125)), x);
  r = f32x4.add(f32x4.mul(n, f32x4.splat(-1.428606765330187e-6)), r);
  let p = f32x4.add(f32x4.mul(f32x4.splat(0.008289290592074394), r), f32x4.splat(0.04189782217144966));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.16667652130126953));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.4999915063381195));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.9999997019767761));
  const e = f32x4.add(f32x4.mul(f32x4.mul(r, s), p), s);
  // Lanes below −87.34 (true result < 2^−126) become exactly 0; NaN fails the compare and stays NaN.
  return v128.andnot(e, f32x4.lt(x, f32x4.splat(-87.33654)));
}

/** e^x of one float, through the same polynomial as expf4 (so tails and vector bodies agree). */
@inline
export function expf1(x: f32): f32 {
  return f32x4.extract_lane(expf4(f32x4.splat(x)), 0);
}
