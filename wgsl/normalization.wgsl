// GroupNorm, LayerNorm and BatchNorm over an N × C × S view (assembly/normalization.ts has the
// same layout): statistics group j is, for batch = 0, the contiguous block of Cg = C/G channels
// j·Cg·S … (j+1)·Cg·S − 1 (j = n·G + g); for batch = 1, channel c = j across the N images.
// One workgroup of 64 per group (per channel for the affine gradients); its invocations stride over
// the group's elements and combine sums in workgroup memory. Statistics are [2, groups]: means, then
// biased variances. Formulas: docs/ops/normalization.md.

// @include util/workgroup.wgsl

// Element index of the e-th element of group j, and its channel.
fn offset(j: u32, e: u32, C: u32, S: u32, Cg: u32, batch: u32) -> u32 {
  if (batch != 0u) { return ((e / S) * C + j) * S + e % S; }
  return j * Cg * S + e;
}

fn channel(j: u32, e: u32, S: u32, G: u32, Cg: u32, batch: u32) -> u32 {
  if (batch != 0u) { return j; }
  return (j % G) * Cg + e / S;
}

// Mean and biased variance of group j's `count` elements of x (every section binds x): two passes,
// the mean, then Σ (x − mean)², never E[x²] − mean².
fn moments(lid: u32, j: u32, count: u32, C: u32, S: u32, Cg: u32, batch: u32) -> vec2<f32> {
  var s = 0.0;
  for (var e = lid; e < count; e += 64u) { s += x[offset(j, e, C, S, Cg, batch)]; }
  let m = workgroupCombine(lid, vec2(s, 0.0), false).x / f32(count);
  var q = 0.0;
  for (var e = lid; e < count; e += 64u) {
    let d = x[offset(j, e, C, S, Cg, batch)] - m;
    q += d * d;
  }
  return vec2(m, workgroupCombine(lid, vec2(q, 0.0), false).x / f32(count));
}

// @kernel normStats
struct P { groups: u32, count: u32, C: u32, S: u32, G: u32, batch: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = wid.y * nwg.x + wid.x;
  if (j >= p.groups) { return; }
  let mv = moments(lid, j, p.count, p.C, p.S, p.C / p.G, p.batch);
  if (lid == 0u) {
    stats[j] = mv.x;
    stats[p.groups + j] = mv.y;
  }
}

// @kernel normForward
// y = (x − m)·rstd·γ_c + β_c; statistics computed here, or read from stats when given (BatchNorm
// eval). Absent inputs are bound to x and never read (hasGamma / hasBeta / given = 0).
struct P { groups: u32, count: u32, C: u32, S: u32, G: u32, batch: u32, given: u32, hasGamma: u32, hasBeta: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = wid.y * nwg.x + wid.x;
  if (j >= p.groups) { return; }
  let Cg = p.C / p.G;
  var mv = vec2(0.0, 0.0);
  if (p.given != 0u) { mv = vec2(stats[j], stats[p.groups + j]); } else { mv = moments(lid, j, p.count, p.C, p.S, Cg, p.batch); }
  let m = mv.x;
  let rstd = inverseSqrt(mv.y + p.eps);
  for (var e = lid; e < p.count; e += 64u) {
    let i = offset(j, e, p.C, p.S, Cg, p.batch);
    let c = channel(j, e, p.S, p.G, Cg, p.batch);
    let g = select(1.0, gamma[c], p.hasGamma != 0u);
    let b = select(0.0, beta[c], p.hasBeta != 0u);
    y[i] = (x[i] - m) * rstd * g + b;
  }
}

// @kernel normGradInput
// dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)) with dŷ = dy·γ, x̂ = (x − m)·rstd (batch statistics);
// dx = rstd·dŷ when the statistics were given (fixed = 1). gamma is bound to dy when absent.
struct P { groups: u32, count: u32, C: u32, S: u32, G: u32, batch: u32, fixed: u32, hasGamma: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = wid.y * nwg.x + wid.x;
  if (j >= p.groups) { return; }
  let Cg = p.C / p.G;
  let m = stats[j];
  let rstd = inverseSqrt(stats[p.groups + j] + p.eps);
  var k = 0.0;
  var b = 0.0;
  if (p.fixed == 0u) {
    var acc = vec2(0.0, 0.0);
    for (var e = lid; e < p.count; e += 64u) {
      let i = offset(j, e, p.C, p.S, Cg, p.batch);
      let g = select(1.0, gamma[channel(j, e, p.S, p.G, Cg, p.batch)], p.hasGamma != 0u);
      let d = dy[i] * g;
      acc += vec2(d, d * (x[i] - m));
    }
    let t = workgroupCombine(lid, acc, false) / f32(p.count);
    k = -rstd * rstd * rstd * t.y;
    b = -rstd * t.x;
  }
  for (var e = lid; e < p.count; e += 64u) {
    let i = offset(j, e, p.C, p.S, Cg, p.batch);
    let g = select(1.0, gamma[channel(j, e, p.S, p.G, Cg, p.batch)], p.hasGamma != 0u);
    dx[i] = rstd * g * dy[i] + k * (x[i] - m) + b;
  }
}

// @kernel normGradAffine
// out[c] = Σ dy·x̂ (dγ) and out[C + c] = Σ dy (dβ) over the N images and S positions of channel c.
struct P { C: u32, N: u32, S: u32, G: u32, batch: u32, groups: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let c = wid.y * nwg.x + wid.x;
  if (c >= p.C) { return; }
  let Cg = p.C / p.G;
  var acc = vec2(0.0, 0.0);
  for (var e = lid; e < p.N * p.S; e += 64u) {
    let n = e / p.S;
    let i = (n * p.C + c) * p.S + e % p.S;
    let j = select(n * p.G + c / Cg, c, p.batch != 0u);
    let d = dy[i];
    acc += vec2(d * (x[i] - stats[j]) * inverseSqrt(stats[p.groups + j] + p.eps), d);
  }
  let t = workgroupCombine(lid, acc, false);
  if (lid == 0u) {
    out[c] = t.x;
    out[p.C + c] = t.y;
  }
}
