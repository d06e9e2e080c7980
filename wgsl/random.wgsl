// Random draws: one invocation per element; element i uses the Philox block at counter (i, 0, 0, 0)
// (docs/ops/random.md), so the workgroup layout never changes a number.
// @include util/philox.wgsl

// @kernel randomUniform
struct P { n: u32, k0: u32, k1: u32, lo: f32, span: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = philox(vec4<u32>(i, 0u, 0u, 0u), vec2<u32>(p.k0, p.k1));
  y[i] = p.lo + p.span * uniformOf(w.x);
}

// @kernel randomNormal
struct P { n: u32, k0: u32, k1: u32, mean: f32, sd: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = philox(vec4<u32>(i, 0u, 0u, 0u), vec2<u32>(p.k0, p.k1));
  // u1 ∈ (0, 1] keeps the log finite; the angle π (2 u2 − 1) stays in [−π, π), where WGSL bounds cos's error.
  let u1 = f32((w.x >> 8u) + 1u) * 5.9604644775390625e-8;
  let u2 = uniformOf(w.y);
  let r = sqrt(max(-2.0 * log(u1), 0.0));
  y[i] = p.mean + p.sd * (-r * cos(3.14159265358979 * (2.0 * u2 - 1.0)));
}
