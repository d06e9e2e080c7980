// dropout: one invocation per element; the mask is randomUniform's draw for the same key,
// compared as 24-bit integers so it is identical on every backend (docs/ops/random.md).
// @include util/philox.wgsl

// @kernel dropout
struct P { n: u32, k0: u32, k1: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = philox(vec4<u32>(i, 0u, 0u, 0u), vec2<u32>(p.k0, p.k1));
  y[i] = select(0.0, x[i] * p.scale, (w.x >> 8u) >= p.threshold);
}
