// concat (one dispatch per input) and slice: one invocation per copied element. Around the axis
// a tensor is outer × len × inner; x is (outer, len·inner) and y (outer, total·inner), or the
// other way round for slice.

// @kernel concat
// Copies one input into its slot of y.
struct P { n: u32, lenInner: u32, totalInner: u32, offsetInner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[(i / p.lenInner) * p.totalInner + p.offsetInner + i % p.lenInner] = x[i];
}

// @kernel slice
struct P { n: u32, lenInner: u32, totalInner: u32, startInner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = x[(i / p.lenInner) * p.totalInner + p.startInner + i % p.lenInner];
}
