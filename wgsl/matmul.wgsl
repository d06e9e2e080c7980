// Batched matmul y[t] = op(a[t]) · op(b[t]), one invocation per output element.
// A naive loop on purpose: on SwiftShader a workgroup-tiled version measured slower (barriers are
// costly there). Hardware adapters run the tiled kernel of wgsl/matmul-tiled.wgsl instead
// (docs/webgpu-kernels.md says which set runs when).

// @kernel matmul
// aBatch / bBatch are 0 for a broadcast batch of 1. transA / transB are 0 or 1.
struct P { n: u32, M: u32, N: u32, K: u32, aBatch: u32, bBatch: u32, transA: u32, transB: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let j = i % p.N;
  let t = i / p.N;
  let r = t % p.M;
  let bt = t / p.M;
  let ta = p.transA != 0u;
  let tb = p.transB != 0u;
  var ai = bt * p.aBatch + select(r * p.K, r, ta);
  let as_ = select(1u, p.M, ta);
  var bi = bt * p.bBatch + select(j, j * p.K, tb);
  let bs = select(p.N, 1u, tb);
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += a[ai] * b[bi];
    ai += as_;
    bi += bs;
  }
  y[i] = acc;
}
