// Batched matmul y[g] = op(a[g]) · op(b[g]) on workgroup-memory tiles (the hardware-adapter variant of
// wgsl/matmul.wgsl; the tiling is in wgsl/util/tiled-gemm.wgsl and docs/webgpu-kernels.md).
// aBatch / bBatch are 0 for a broadcast batch of 1; transA / transB are 0 or 1.
// @include util/tiled-gemm.wgsl

struct P { batch: u32, M: u32, N: u32, K: u32, aBatch: u32, bBatch: u32, transA: u32, transB: u32, tilesM: u32, tilesN: u32 }
@group(0) @binding(0) var<uniform> p: P;

fn aIndex(g: u32, m: u32, k: u32) -> u32 { return g * p.aBatch + select(m * p.K + k, k * p.M + m, p.transA != 0u); }
fn bIndex(g: u32, k: u32, n: u32) -> u32 { return g * p.bBatch + select(k * p.N + n, n * p.K + k, p.transB != 0u); }

// @kernel matmulTiled
// Scalar loads: any shape.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn loadA(g: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return a[aIndex(g, m, k)];
}
fn loadB(g: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  return b[bIndex(g, k, n)];
}
fn storeC(g: u32, m: u32, n: u32, v: f32) { y[(g * p.M + m) * p.N + n] = v; }

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  gemmScalar(wid, nwg, lid, p.transA == 0u, p.transB != 0u);
}

// @kernel matmulTiledVec4
// vec4 loads: each operand's contiguous axis (k of a row-major a, m of a transposed one; n of a
// row-major b, k of a transposed one) is a multiple of 4, so a vec4 that starts inside the matrix
// ends inside it, and every batch offset is a multiple of 4 too (the host checks).
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn loadA(g: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  let i = aIndex(g, m, k);
  return a[i / 4u][i % 4u];
}
fn loadB(g: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  let i = bIndex(g, k, n);
  return b[i / 4u][i % 4u];
}
fn storeC(g: u32, m: u32, n: u32, v: f32) { y[(g * p.M + m) * p.N + n] = v; }

fn fillTilesVec4(lid: u32, t: Tile, k0: u32) {
  for (var e = lid; e < BM * BK / 4u; e += NT) {
    if (p.transA == 0u) {
      // Four consecutive k of one row m: spread over four k rows of the tile.
      let m = e / (BK / 4u);
      let k = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (t.m0 + m < p.M && k0 + k < p.K) { v = a[aIndex(t.g, t.m0 + m, k0 + k) / 4u]; }
      for (var j = 0u; j < 4u; j++) { As[(k + j) * TY + m / 4u][m % 4u] = v[j]; }
    } else {
      // Four consecutive m of one k: exactly one vec4 of the tile.
      let k = e / TY;
      let m = (e % TY) * 4u;
      var v = vec4<f32>(0.0);
      if (t.m0 + m < p.M && k0 + k < p.K) { v = a[aIndex(t.g, t.m0 + m, k0 + k) / 4u]; }
      As[k * TY + m / 4u] = v;
    }
  }
  for (var e = lid; e < BK * BN / 4u; e += NT) {
    if (p.transB == 0u) {
      let k = e / TX;
      let n = (e % TX) * 4u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && t.n0 + n < p.N) { v = b[bIndex(t.g, k0 + k, t.n0 + n) / 4u]; }
      Bs[k * TX + n / 4u] = v;
    } else {
      let n = e / (BK / 4u);
      let k = (e % (BK / 4u)) * 4u;
      var v = vec4<f32>(0.0);
      if (k0 + k < p.K && t.n0 + n < p.N) { v = b[bIndex(t.g, k0 + k, t.n0 + n) / 4u]; }
      for (var j = 0u; j < 4u; j++) { Bs[(k + j) * TX + n / 4u][n % 4u] = v[j]; }
    }
  }
}

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(wid, nwg, p.tilesM, p.tilesN, p.batch);
  if (!t.live) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    fillTilesVec4(lid, t, k0);
    workgroupBarrier();
    multiplyTiles(lid % TX, lid / TX, &acc);
    workgroupBarrier();
  }
  storeTile(t, lid % TX, lid / TX, &acc, p.M, p.N);
}
