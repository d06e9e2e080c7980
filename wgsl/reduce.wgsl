// Reductions over any set of axes of a rank-4 tensor (keepdims).
// One workgroup of 64 per output element: the invocations stride over the reduced elements, then
// a tree in workgroup memory combines them, so a full reduction is not one long serial loop.
// {{MAP}} (of v) and {{COMBINE}} (of u, v) pick sum / sumSquares / max; mean = sum · scale.

// @kernel reduce
// xs*: strides of x. od*: output dims (reduced axes are 1). rd*: reduced dims (kept axes are 1).
struct P {
  nOut: u32, R: u32, xs0: u32, xs1: u32, xs2: u32, xs3: u32,
  od1: u32, od2: u32, od3: u32, rd1: u32, rd2: u32, rd3: u32,
  scale: f32, init: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> part: array<f32, 64>;

fn combine(u: f32, v: f32) -> f32 {
  return {{COMBINE}};
}

fn map(v: f32) -> f32 {
  return {{MAP}};
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= p.nOut) { return; }
  let o3 = o % p.od3;
  var t = o / p.od3;
  let o2 = t % p.od2;
  t = t / p.od2;
  let o1 = t % p.od1;
  let o0 = t / p.od1;
  let base = o0 * p.xs0 + o1 * p.xs1 + o2 * p.xs2 + o3 * p.xs3;
  var acc = p.init;
  for (var r = lid; r < p.R; r += 64u) {
    let r3 = r % p.rd3;
    var s = r / p.rd3;
    let r2 = s % p.rd2;
    s = s / p.rd2;
    let r1 = s % p.rd1;
    let r0 = s / p.rd1;
    acc = combine(acc, map(x[base + r0 * p.xs0 + r1 * p.xs1 + r2 * p.xs2 + r3 * p.xs3]));
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { y[o] = part[0] * p.scale; }
}
