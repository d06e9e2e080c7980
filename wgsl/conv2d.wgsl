// Grouped 2-D convolution with stride, dilation and explicit pads, and its two adjoints
// (docs/ops/conv2d.md). Direct loops: one invocation per output element (conv2d, conv2dGradInput);
// conv2dGradFilter reduces over N·Ho·Wo per weight, so it gets a workgroup per weight and a tree
// reduction.

// @kernel conv2d
struct P {
  n: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, Cig: u32, Cog: u32,
  top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
// Bound to the weights when there is no bias (hasBias = 0): the binding must exist either way.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let q = i % p.Wo;
  var t = i / p.Wo;
  let pp = t % p.Ho;
  t = t / p.Ho;
  let o = t % p.Co;
  let nn = t / p.Co;
  let g = o / p.Cog;
  var acc = 0.0;
  if (p.hasBias != 0u) { acc = bias[o]; }
  let H = i32(p.H);
  let W = i32(p.W);
  let h0 = i32(pp * p.sh) - p.top;
  let w0 = i32(q * p.sw) - p.left;
  for (var ci = 0u; ci < p.Cig; ci++) {
    let xb = (nn * p.Ci + g * p.Cig + ci) * p.H * p.W;
    let wb = (o * p.Cig + ci) * p.kh * p.kw;
    for (var a = 0u; a < p.kh; a++) {
      let h = h0 + i32(a * p.dh);
      if (h < 0 || h >= H) { continue; }
      for (var b = 0u; b < p.kw; b++) {
        let w = w0 + i32(b * p.dw);
        if (w < 0 || w >= W) { continue; }
        acc += wt[wb + a * p.kw + b] * x[xb + u32(h) * p.W + u32(w)];
      }
    }
  }
  y[i] = acc;
}

// @kernel conv2dGradInput
// One invocation per dx element: gathers every (o, a, b) whose tap lands on it, i.e. the dy
// position (h + top − a·dh) / sh when that is a whole number in range. The optional bias (per dx
// channel) makes it the transposed convolution.
struct P {
  n: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, Cig: u32, Cog: u32,
  top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = i % p.W;
  var t = i / p.W;
  let h = t % p.H;
  t = t / p.H;
  let c = t % p.Ci;
  let nn = t / p.Ci;
  let g = c / p.Cig;
  let ci = c % p.Cig;
  let Ho = i32(p.Ho);
  let Wo = i32(p.Wo);
  let sh = i32(p.sh);
  let sw = i32(p.sw);
  var acc = 0.0;
  if (p.hasBias != 0u) { acc = bias[c]; }
  for (var oo = 0u; oo < p.Cog; oo++) {
    let o = g * p.Cog + oo;
    let yb = (nn * p.Co + o) * p.Ho * p.Wo;
    let wb = (o * p.Cig + ci) * p.kh * p.kw;
    for (var a = 0u; a < p.kh; a++) {
      let th = i32(h) + p.top - i32(a * p.dh);
      if (th < 0 || th % sh != 0) { continue; }
      let pp = th / sh;
      if (pp >= Ho) { continue; }
      for (var b = 0u; b < p.kw; b++) {
        let tw = i32(w) + p.left - i32(b * p.dw);
        if (tw < 0 || tw % sw != 0) { continue; }
        let q = tw / sw;
        if (q >= Wo) { continue; }
        acc += wt[wb + a * p.kw + b] * dy[yb + u32(pp) * p.Wo + u32(q)];
      }
    }
  }
  dx[i] = acc;
}

// @kernel conv2dGradFilter
// One workgroup per dw element (o, ci, a, b); its 64 invocations stride over (n, p, q).
struct P {
  nOut: u32, N: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, Cig: u32, Cog: u32,
  top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

var<workgroup> part: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = wid.y * nwg.x + wid.x;
  if (e >= p.nOut) { return; }
  let b = e % p.kw;
  var t = e / p.kw;
  let a = t % p.kh;
  t = t / p.kh;
  let ci = t % p.Cig;
  let o = t / p.Cig;
  let xc = (o / p.Cog) * p.Cig + ci;
  let H = i32(p.H);
  let W = i32(p.W);
  let ha = i32(a * p.dh) - p.top;
  let wb = i32(b * p.dw) - p.left;
  let R = p.N * p.Ho * p.Wo;
  var acc = 0.0;
  for (var r = lid; r < R; r += 64u) {
    let q = r % p.Wo;
    let s = r / p.Wo;
    let pp = s % p.Ho;
    let nn = s / p.Ho;
    let h = i32(pp * p.sh) + ha;
    let w = i32(q * p.sw) + wb;
    if (h < 0 || h >= H || w < 0 || w >= W) { continue; }
    acc += x[((nn * p.Ci + xc) * p.H + u32(h)) * p.W + u32(w)] * dy[((nn * p.Co + o) * p.Ho + pp) * p.Wo + q];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dw[e] = part[0]; }
}
