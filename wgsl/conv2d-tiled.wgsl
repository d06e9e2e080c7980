// Grouped 2-D convolution and its two adjoints as implicit GEMMs on the tiles of
// wgsl/util/tiled-gemm.wgsl (the hardware-adapter variants of wgsl/conv2d.wgsl): the im2col matrix
// is never stored, loadA / loadB compute each element's source index (zero in the padding), and g
// is the group. The GEMM each kernel computes is in docs/webgpu-kernels.md §3.
// @include util/tiled-gemm.wgsl

// batch … tilesN describe the GEMM; the rest is the convolution (Nb images).
struct P {
  batch: u32, M: u32, N: u32, K: u32, tilesM: u32, tilesN: u32, Nb: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32,
  kh: u32, kw: u32, Cig: u32, Cog: u32, top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: P;

// The input element tap (a, b) of output (nn, pp, q) reads, as (channel plane base, row, column);
// row or column outside the image means a zero.
fn tapRow(pp: u32, a: u32) -> i32 { return i32(pp * p.sh + a * p.dh) - p.top; }
fn tapCol(q: u32, b: u32) -> i32 { return i32(q * p.sw + b * p.dw) - p.left; }
fn inImage(h: i32, w: i32) -> bool { return h >= 0 && h < i32(p.H) && w >= 0 && w < i32(p.W); }

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  gemmScalar(wid, nwg, lid, true, B_ALONG_K);
}

// @kernel conv2dTiled
// Per group: y[o, (nn, pp, q)] = Σ_{k = (ci, a, b)} w[o, k] · x[nn, ci, tapRow(pp, a), tapCol(q, b)],
// M = Cog, N = Nb·Ho·Wo, K = Cig·kh·kw; consecutive invocations walk n (neighbouring output pixels).
const B_ALONG_K = false;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
// Bound to the weights when there is no bias (hasBias = 0): the binding must exist either way.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// Per k = (ci, a, b), from the host: (ci·H·W + a·dh·W + b·dw, a·dh · 65536 + b·dw), so a load needs
// no division to find its tap.
@group(0) @binding(5) var<storage, read> kTab: array<vec2<i32>>;

fn loadA(g: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return wt[(g * p.Cog + m) * p.K + k];
}
// An invocation loads the same output column n at every k step (wgsl/util/tiled-gemm.wgsl walks n
// fastest and NT is a multiple of BN), so its image and top-left input pixel are computed once.
var<private> colN: u32 = 0xffffffffu;
var<private> colImage: u32;
var<private> colH: i32;
var<private> colW: i32;

fn loadB(g: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (n != colN) {
    colN = n;
    colImage = n / (p.Wo * p.Ho);
    colH = tapRow((n / p.Wo) % p.Ho, 0u);
    colW = tapCol(n % p.Wo, 0u);
  }
  let t = kTab[k];
  let h = colH + (t.y >> 16u);
  let w = colW + (t.y & 0xffff);
  if (!inImage(h, w)) { return 0.0; }
  return x[i32((colImage * p.Ci + g * p.Cig) * p.H * p.W) + colH * i32(p.W) + colW + t.x];
}
fn storeC(g: u32, m: u32, n: u32, v: f32) {
  let o = g * p.Cog + m;
  let plane = p.Ho * p.Wo;
  let nn = n / plane;
  let bv = select(0.0, bias[o], p.hasBias != 0u);
  y[(nn * p.Co + o) * plane + n % plane] = v + bv;
}

// @kernel conv2dGradInputTiled
// Per group: dx[c, (nn, h, w)] = Σ_{k = (o, a, b)} w[o, c, a, b] · dy[nn, o, pp, q] over the taps with
// h + top − a·dh = pp·sh and w + left − b·dw = q·sw inside dy (others read zero), M = Cig,
// N = Nb·H·W, K = Cog·kh·kw. The optional bias (per dx channel) makes it the transposed convolution.
const B_ALONG_K = false;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

fn loadA(g: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  let taps = p.kh * p.kw;
  return wt[((g * p.Cog + k / taps) * p.Cig + m) * taps + k % taps];
}
// As in conv2dTiled: the dx pixel (column n) an invocation loads is the same at every k step.
var<private> colN: u32 = 0xffffffffu;
var<private> colImage: u32;
var<private> colH: i32;
var<private> colW: i32;

fn loadB(g: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (n != colN) {
    colN = n;
    colImage = n / (p.W * p.H);
    colH = i32((n / p.W) % p.H) + p.top;
    colW = i32(n % p.W) + p.left;
  }
  let taps = p.kh * p.kw;
  let o = k / taps;
  let r = k % taps;
  let nn = colImage;
  let th = colH - i32((r / p.kw) * p.dh);
  let tw = colW - i32((r % p.kw) * p.dw);
  if (th < 0 || tw < 0) { return 0.0; }
  let uh = u32(th);
  let uw = u32(tw);
  if (uh % p.sh != 0u || uw % p.sw != 0u) { return 0.0; }
  let pp = uh / p.sh;
  let q = uw / p.sw;
  if (pp >= p.Ho || q >= p.Wo) { return 0.0; }
  return dy[((nn * p.Co + g * p.Cog + o) * p.Ho + pp) * p.Wo + q];
}
fn storeC(g: u32, m: u32, n: u32, v: f32) {
  let c = g * p.Cig + m;
  let plane = p.H * p.W;
  let nn = n / plane;
  let bv = select(0.0, bias[c], p.hasBias != 0u);
  dx[(nn * p.Ci + c) * plane + n % plane] = v + bv;
}

// @kernel conv2dGradFilterTiled
// Per group: dw[o, (c, a, b)] = Σ_{k = (nn, pp, q)} dy[nn, o, pp, q] · x[nn, c, tapRow(pp, a), tapCol(q, b)],
// M = Cog, N = Cig·kh·kw, K = Nb·Ho·Wo; both operands are walked along k (neighbouring pixels).
const B_ALONG_K = true;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

fn loadA(g: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  let plane = p.Ho * p.Wo;
  return dy[((k / plane) * p.Co + g * p.Cog + m) * plane + k % plane];
}
fn loadB(g: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  let taps = p.kh * p.kw;
  let c = n / taps;
  let a = (n % taps) / p.kw;
  let b = n % p.kw;
  let q = k % p.Wo;
  let pp = (k / p.Wo) % p.Ho;
  let nn = k / (p.Wo * p.Ho);
  let h = tapRow(pp, a);
  let w = tapCol(q, b);
  if (!inImage(h, w)) { return 0.0; }
  return x[((nn * p.Ci + g * p.Cig + c) * p.H + u32(h)) * p.W + u32(w)];
}
fn storeC(g: u32, m: u32, n: u32, v: f32) { dw[(g * p.Cog + m) * p.N + n] = v; }
