// Softmax (log = 0) and log-softmax (log = 1) along the middle axis of an outer × L × inner view,
// stable: each line subtracts its maximum before exponentiating.
// @include util/workgroup.wgsl

// @kernel softmaxRows
// inner = 1: one workgroup of 64 per row; the invocations stride along the row and combine the
// maximum, then the sum of e^(x − m), in workgroup memory.
struct P { rows: u32, L: u32, log: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.rows) { return; }
  let base = row * p.L;
  var m = x[base];
  for (var i = lid; i < p.L; i += 64u) { m = max(m, x[base + i]); }
  m = workgroupCombine(lid, vec2(m, 0.0), true).x;
  var s = 0.0;
  for (var i = lid; i < p.L; i += 64u) { s += exp(x[base + i] - m); }
  s = workgroupCombine(lid, vec2(s, 0.0), false).x;
  let lse = m + log(s);
  for (var i = lid; i < p.L; i += 64u) {
    let v = x[base + i];
    y[base + i] = select(exp(v - m) / s, v - lse, p.log != 0u);
  }
}

// @kernel softmaxColumns
// inner > 1: one invocation per (outer, inner) column, walking its L elements (stride inner) three times.
struct P { n: u32, L: u32, inner: u32, log: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let base = (i / p.inner) * p.L * p.inner + i % p.inner;
  var m = x[base];
  for (var l = 1u; l < p.L; l++) { m = max(m, x[base + l * p.inner]); }
  var s = 0.0;
  for (var l = 0u; l < p.L; l++) { s += exp(x[base + l * p.inner] - m); }
  let lse = m + log(s);
  for (var l = 0u; l < p.L; l++) {
    let v = x[base + l * p.inner];
    y[base + l * p.inner] = select(exp(v - m) / s, v - lse, p.log != 0u);
  }
}
