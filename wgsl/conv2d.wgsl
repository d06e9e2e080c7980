// Grouped 2-D convolution with stride, dilation and explicit pads, and its two adjoints
// (docs/ops/conv2d.md §5). Direct loops, one invocation per output pixel and block of 4 channels,
// summing in a fixed order. The taps that land inside the image are found once per invocation, so
// the inner loops carry no bounds test, and no kernel uses workgroup barriers (on software adapters
// such as SwiftShader each one switches every invocation's context).

// The first i ≥ 0 with i·s + off ≥ 0, and one past the last i with i·s + off < n, clamped to [0, count].
fn firstIn(off: i32, s: i32) -> i32 { return max(0, (s - 1 - off) / s); }
fn endIn(off: i32, s: i32, n: i32, count: i32) -> i32 { return clamp((n - off + s - 1) / s, 0, count); }

// @kernel conv2d
// One invocation per output pixel and block of 4 output channels of a group (n counts invocations):
// each input value read serves four multiply-adds. Channels past the group's end repeat its last
// weight row and are not stored.
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
  let nb = (p.Cog + 3u) / 4u;
  let blocks = (p.Co / p.Cog) * nb;
  let blk = t % blocks;
  let nn = t / blocks;
  let g = blk / nb;
  let oo = (blk % nb) * 4u;
  let nv = min(4u, p.Cog - oo);
  let o0 = g * p.Cog + oo;
  let taps = i32(p.kh * p.kw);
  let rowW = i32(p.Cig) * taps;
  let w0r = i32(o0) * rowW;
  let w1r = i32(o0 + min(1u, nv - 1u)) * rowW;
  let w2r = i32(o0 + min(2u, nv - 1u)) * rowW;
  let w3r = i32(o0 + min(3u, nv - 1u)) * rowW;
  var acc = vec4<f32>(0.0);
  if (p.hasBias != 0u) {
    acc = vec4<f32>(bias[o0], bias[o0 + min(1u, nv - 1u)], bias[o0 + min(2u, nv - 1u)], bias[o0 + min(3u, nv - 1u)]);
  }
  let W = i32(p.W);
  let dh = i32(p.dh);
  let dw = i32(p.dw);
  let kw = i32(p.kw);
  // Input row of tap a: h0 + a·dh; column of tap b: w0 + b·dw.
  let h0 = i32(pp * p.sh) - p.top;
  let w0 = i32(q * p.sw) - p.left;
  let a0 = firstIn(h0, dh);
  let a1 = endIn(h0, dh, i32(p.H), i32(p.kh));
  let b0 = firstIn(w0, dw);
  let b1 = endIn(w0, dw, W, kw);
  for (var ci = 0; ci < i32(p.Cig); ci++) {
    let xb = i32((nn * p.Ci + g * p.Cig) * p.H * p.W) + ci * i32(p.H) * W + w0;
    let wb = ci * taps;
    for (var a = a0; a < a1; a++) {
      let xr = xb + (h0 + a * dh) * W;
      let wr = wb + a * kw;
      for (var b = b0; b < b1; b++) {
        let xv = x[xr + b * dw];
        let k = wr + b;
        acc += vec4<f32>(wt[w0r + k], wt[w1r + k], wt[w2r + k], wt[w3r + k]) * xv;
      }
    }
  }
  let plane = p.Ho * p.Wo;
  let yi = ((nn * p.Co + o0) * p.Ho + pp) * p.Wo + q;
  y[yi] = acc.x;
  if (nv > 1u) { y[yi + plane] = acc.y; }
  if (nv > 2u) { y[yi + 2u * plane] = acc.z; }
  if (nv > 3u) { y[yi + 3u * plane] = acc.w; }
}

// @kernel conv2dGradInput
// One invocation per dx pixel (h, w) and block of 4 channels of a group (n counts invocations).
// The taps a that reach row h satisfy h + top − a·dh = pp·sh with 0 ≤ pp < Ho: a progression in a
// of step sh / gcd(sh, dh) (stepH, from the host) from the first a of the right residue; likewise
// b. The optional bias (per dx channel) makes it the transposed convolution.
struct P {
  n: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, Cig: u32, Cog: u32,
  top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32, stepH: u32, stepW: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;

// The first tap k < min(step, count) with base − k·d a non-negative multiple of s, or count if none.
fn firstTap(base: i32, d: i32, s: i32, step: i32, count: i32) -> i32 {
  for (var k = 0; k < min(step, count); k++) {
    let r = base - k * d;
    if (r < 0) { break; }
    if (r % s == 0) { return k; }
  }
  return count;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = i % p.W;
  var t = i / p.W;
  let h = t % p.H;
  t = t / p.H;
  let nb = (p.Cig + 3u) / 4u;
  let blocks = (p.Ci / p.Cig) * nb;
  let blk = t % blocks;
  let nn = t / blocks;
  let g = blk / nb;
  let ci0 = (blk % nb) * 4u;
  let nv = min(4u, p.Cig - ci0);
  let c0 = g * p.Cig + ci0;
  let Ho = i32(p.Ho);
  let Wo = i32(p.Wo);
  let sh = i32(p.sh);
  let sw = i32(p.sw);
  let dh = i32(p.dh);
  let dw = i32(p.dw);
  let kh = i32(p.kh);
  let kw = i32(p.kw);
  let taps = kh * kw;
  let stepH = i32(p.stepH);
  let stepW = i32(p.stepW);
  let bh = i32(h) + p.top;
  let bw = i32(w) + p.left;
  let a0 = firstTap(bh, dh, sh, stepH, kh);
  let b0 = firstTap(bw, dw, sw, stepW, kw);
  // Weight rows of the four channels (past the group's end: the last one again, never stored).
  let j1 = i32(min(1u, nv - 1u)) * taps;
  let j2 = i32(min(2u, nv - 1u)) * taps;
  let j3 = i32(min(3u, nv - 1u)) * taps;
  var acc = vec4<f32>(0.0);
  if (p.hasBias != 0u) {
    acc = vec4<f32>(bias[c0], bias[c0 + min(1u, nv - 1u)], bias[c0 + min(2u, nv - 1u)], bias[c0 + min(3u, nv - 1u)]);
  }
  for (var oo = 0u; oo < p.Cog; oo++) {
    let o = g * p.Cog + oo;
    let yb = i32((nn * p.Co + o) * p.Ho * p.Wo);
    let wb = i32(o * p.Cig + ci0) * taps;
    for (var a = a0; a < kh; a += stepH) {
      let th = bh - a * dh;
      if (th < 0) { break; }
      let pp = th / sh;
      if (pp >= Ho) { continue; }
      for (var b = b0; b < kw; b += stepW) {
        let tw = bw - b * dw;
        if (tw < 0) { break; }
        let q = tw / sw;
        if (q >= Wo) { continue; }
        let dv = dy[yb + pp * Wo + q];
        let k = wb + a * kw + b;
        acc += vec4<f32>(wt[k], wt[k + j1], wt[k + j2], wt[k + j3]) * dv;
      }
    }
  }
  let plane = p.H * p.W;
  let xi = ((nn * p.Ci + c0) * p.H + h) * p.W + w;
  dx[xi] = acc.x;
  if (nv > 1u) { dx[xi + plane] = acc.y; }
  if (nv > 2u) { dx[xi + 2u * plane] = acc.z; }
  if (nv > 3u) { dx[xi + 3u * plane] = acc.w; }
}

// @kernel conv2dGradFilter
// One invocation per weight tap (ci, a, b) and block of 4 output channels of a group (nOut counts
// invocations), summing over (n, p, q) in order: each x value read serves four multiply-adds. The
// outputs p, q whose tap lands inside the image are found once.
struct P {
  nOut: u32, N: u32, Ci: u32, H: u32, W: u32, Co: u32, Ho: u32, Wo: u32, kh: u32, kw: u32, Cig: u32, Cog: u32,
  top: i32, left: i32, sh: u32, sw: u32, dh: u32, dw: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= p.nOut) { return; }
  let b = e % p.kw;
  var t = e / p.kw;
  let a = t % p.kh;
  t = t / p.kh;
  let ci = t % p.Cig;
  t = t / p.Cig;
  let nb = (p.Cog + 3u) / 4u;
  let g = t / nb;
  let o0 = g * p.Cog + (t % nb) * 4u;
  let nv = min(4u, g * p.Cog + p.Cog - o0);
  let xc = g * p.Cig + ci;
  let sh = i32(p.sh);
  let sw = i32(p.sw);
  let ha = i32(a * p.dh) - p.top;
  let wb = i32(b * p.dw) - p.left;
  let p0 = firstIn(ha, sh);
  let p1 = endIn(ha, sh, i32(p.H), i32(p.Ho));
  let q0 = firstIn(wb, sw);
  let q1 = endIn(wb, sw, i32(p.W), i32(p.Wo));
  let plane = i32(p.Ho * p.Wo);
  // dy planes of the four channels (past the group's end: the last one again, never stored).
  let j1 = i32(min(1u, nv - 1u)) * plane;
  let j2 = i32(min(2u, nv - 1u)) * plane;
  let j3 = i32(min(3u, nv - 1u)) * plane;
  var acc = vec4<f32>(0.0);
  for (var nn = 0u; nn < p.N; nn++) {
    let xb = i32((nn * p.Ci + xc) * p.H * p.W);
    let yb = i32((nn * p.Co + o0) * p.Ho * p.Wo);
    for (var pp = p0; pp < p1; pp++) {
      let xr = xb + (pp * sh + ha) * i32(p.W) + wb;
      let yr = yb + pp * i32(p.Wo);
      for (var q = q0; q < q1; q++) {
        let xv = x[xr + q * sw];
        let k = yr + q;
        acc += vec4<f32>(dy[k], dy[k + j1], dy[k + j2], dy[k + j3]) * xv;
      }
    }
  }
  let wsz = p.Cig * p.kh * p.kw;
  let wi = o0 * wsz + (ci * p.kh + a) * p.kw + b;
  dw[wi] = acc.x;
  if (nv > 1u) { dw[wi + wsz] = acc.y; }
  if (nv > 2u) { dw[wi + 2u * wsz] = acc.z; }
  if (nv > 3u) { dw[wi + 3u * wsz] = acc.w; }
}
