// gather and its adjoint, one invocation per output element. Around the gathered axis x is
// outer × V × inner and y is outer × K × inner. An index that is not an integer in [0, V) selects
// nothing: a 0 row forward, no contribution backward (src/ops/gather.ts validates indices on the
// backends that can read them synchronously; this one cannot).

// @kernel gather
struct P { n: u32, V: u32, K: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let e = i % p.inner;
  let t = i / p.inner;
  let k = t % p.K;
  let o = t / p.K;
  let f = idx[k];
  if (f >= 0.0 && f < f32(p.V) && f == floor(f)) {
    y[i] = x[(o * p.V + u32(f)) * p.inner + e];
  } else {
    y[i] = 0.0;
  }
}

// @kernel gatherGrad
// One invocation per dx element: it scans the K indices in order and sums the dy rows of its own
// row v, so the result does not depend on scheduling. Cost O(K) per element: fine for embedding
// tables and class or timestep lookups.
struct P { n: u32, V: u32, K: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let e = i % p.inner;
  let t = i / p.inner;
  let v = f32(t % p.V);
  let o = t / p.V;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k = k + 1u) {
    if (idx[k] == v) {
      acc = acc + dy[(o * p.K + k) * p.inner + e];
    }
  }
  dx[i] = acc;
}
