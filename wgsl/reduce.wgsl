// Reductions over any set of axes of a rank-4 view (keepdims), one workgroup of 64 per output:
// the invocations stride over the reduced elements, then a tree in workgroup memory combines them,
// so a full reduction is not one long serial loop. {{FN}} is the function code of src/ops/reduce.ts
// (a compile-time constant, so each function is its own pipeline without dead branches):
// sum 0 (mean is sum · scale), sumSquares 2, max 3, logSumExp 4 (max first, then Σ e^(x − max)).
// @include util/workgroup.wgsl

// @kernel reduce
// xs*: strides of x. od*: output dims (reduced axes are 1). rd*: reduced dims (kept axes are 1).
// init: 0, or −∞ for max and logSumExp (a uniform: WGSL has no infinite constants).
struct P {
  nOut: u32, R: u32, xs0: u32, xs1: u32, xs2: u32, xs3: u32,
  od1: u32, od2: u32, od3: u32, rd1: u32, rd2: u32, rd3: u32,
  scale: f32, init: f32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const FN: u32 = {{FN}}u;
const MAX = FN == 3u || FN == 4u;

// The r-th reduced element of the output whose first element is at `base`.
fn element(base: u32, r: u32) -> f32 {
  let r3 = r % p.rd3;
  var s = r / p.rd3;
  let r2 = s % p.rd2;
  s = s / p.rd2;
  let r1 = s % p.rd1;
  let r0 = s / p.rd1;
  return x[base + r0 * p.xs0 + r1 * p.xs1 + r2 * p.xs2 + r3 * p.xs3];
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
    let v = element(base, r);
    if (MAX) { acc = max(acc, v); } else { acc += select(v, v * v, FN == 2u); }
  }
  let total = workgroupCombine(lid, vec2(acc, 0.0), MAX).x;
  if (FN != 4u) {
    if (lid == 0u) { y[o] = total * p.scale; }
    return;
  }
  // log Σ e^(x − m) + m, shifting by 0 when the maximum is infinite (+∞ then stays the result).
  let m = select(0.0, total, abs(total) <= 3.4028234e38);
  var s = 0.0;
  for (var r = lid; r < p.R; r += 64u) { s += exp(element(base, r) - m); }
  let sum = workgroupCombine(lid, vec2(s, 0.0), false).x;
  if (lid == 0u) { y[o] = select(m + log(sum), total, total > 3.4028234e38); }
}
