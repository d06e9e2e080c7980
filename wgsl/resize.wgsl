// Nearest / bilinear resizing through the host's per-axis tables (src/ops/resize.ts,
// docs/ops/resize.md), int32 words with λ as float32 bits:
//   rows: i0[Ho] i1[Ho] λ[Ho] lo[H] hi[H], then columns: i0[Wo] i1[Wo] λ[Wo] lo[W] hi[W].

// Weight of input i in output o of the axis whose table starts at word t with `outs` outputs.
fn tableWeight(t: u32, outs: u32, o: u32, i: i32) -> f32 {
  let l = bitcast<f32>(tab[t + 2u * outs + o]);
  return select(0.0, 1.0 - l, tab[t + o] == i) + select(0.0, l, tab[t + outs + o] == i);
}

// @kernel resize
struct P { n: u32, H: u32, W: u32, Ho: u32, Wo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let q = i % p.Wo;
  let t = i / p.Wo;
  let o = t % p.Ho;
  let plane = t / p.Ho;
  let tw = 3u * p.Ho + 2u * p.H;
  let r0 = (plane * p.H + u32(tab[o])) * p.W;
  let r1 = (plane * p.H + u32(tab[p.Ho + o])) * p.W;
  let lh = bitcast<f32>(tab[2u * p.Ho + o]);
  let c0 = u32(tab[tw + q]);
  let c1 = u32(tab[tw + p.Wo + q]);
  let lw = bitcast<f32>(tab[tw + 2u * p.Wo + q]);
  y[i] = (1.0 - lh) * ((1.0 - lw) * x[r0 + c0] + lw * x[r0 + c1]) + lh * ((1.0 - lw) * x[r1 + c0] + lw * x[r1 + c1]);
}

// @kernel resizeGrad
struct P { n: u32, H: u32, W: u32, Ho: u32, Wo: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// One invocation per dx element: the outputs reading it, in ascending (o, q).
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = flatIndex(wid, nwg, lid);
  if (e >= p.n) { return; }
  let j = e % p.W;
  let t = e / p.W;
  let i = t % p.H;
  let plane = t / p.H;
  let tw = 3u * p.Ho + 2u * p.H;
  let oLo = tab[3u * p.Ho + i];
  let oHi = tab[3u * p.Ho + p.H + i];
  let qLo = tab[tw + 3u * p.Wo + j];
  let qHi = tab[tw + 3u * p.Wo + p.W + j];
  var acc = 0.0;
  for (var o = oLo; o <= oHi; o++) {
    let wh = tableWeight(0u, p.Ho, u32(o), i32(i));
    let row = (plane * p.Ho + u32(o)) * p.Wo;
    for (var q = qLo; q <= qHi; q++) {
      acc += wh * tableWeight(tw, p.Wo, u32(q), i32(j)) * dy[row + u32(q)];
    }
  }
  dx[e] = acc;
}
