// The shared core of the tiled kernels (docs/webgpu-kernels.md): one workgroup computes a BM × BN
// block of a product C = A·B, TX × TY invocations each holding a 4 × 4 register tile, and the K axis
// is walked in steps of BK through two tiles in workgroup memory. A file including this defines
// loadA(g, m, k) and loadB(g, k, n) (zero outside the matrices) and storeC(g, m, n, v); g is the
// batch entry (matmul) or group (convolutions).

const TX: u32 = {{TX}}u;
const TY: u32 = {{TY}}u;
const BK: u32 = {{BK}}u;
const BM: u32 = 4u * TY;
const BN: u32 = 4u * TX;
const NT: u32 = TX * TY;

// As[k·TY + m/4][m%4] = A[m0 + m, k0 + k]; Bs[k·TX + n/4][n%4] = B[k0 + k, n0 + n]. Four rows (or
// columns) share a vec4, so the product loop reads one vec4 of each per step.
var<workgroup> As: array<vec4<f32>, BK * TY>;
var<workgroup> Bs: array<vec4<f32>, BK * TX>;

struct Tile { g: u32, m0: u32, n0: u32, live: bool }

// Workgroups enumerate (g, tile row, tile column) with the column fastest, on the 2-D launch grid.
fn tileOf(wid: vec3<u32>, nwg: vec3<u32>, tilesM: u32, tilesN: u32, batch: u32) -> Tile {
  let w = wid.y * nwg.x + wid.x;
  let g = w / (tilesM * tilesN);
  let r = w % (tilesM * tilesN);
  return Tile(g, (r / tilesN) * BM, (r % tilesN) * BN, g < batch);
}

// Fills both tiles with scalar loads. alongK picks which axis consecutive invocations walk, so that
// they read consecutive addresses of an operand stored contiguously along k (else along m or n).
fn fillTilesScalar(lid: u32, t: Tile, k0: u32, aAlongK: bool, bAlongK: bool) {
  for (var e = lid; e < BM * BK; e += NT) {
    let m = select(e % BM, e / BK, aAlongK);
    let k = select(e / BM, e % BK, aAlongK);
    As[k * TY + m / 4u][m % 4u] = loadA(t.g, t.m0 + m, k0 + k);
  }
  for (var e = lid; e < BK * BN; e += NT) {
    let n = select(e % BN, e / BK, bAlongK);
    let k = select(e / BN, e % BK, bAlongK);
    Bs[k * TX + n / 4u][n % 4u] = loadB(t.g, k0 + k, t.n0 + n);
  }
}

// acc[r] holds row 4·ty + r of the block, columns 4·tx … 4·tx + 3.
fn multiplyTiles(tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
  for (var k = 0u; k < BK; k++) {
    let a = As[k * TY + ty];
    let b = Bs[k * TX + tx];
    (*acc)[0] += a.x * b;
    (*acc)[1] += a.y * b;
    (*acc)[2] += a.z * b;
    (*acc)[3] += a.w * b;
  }
}

fn storeTile(t: Tile, tx: u32, ty: u32, acc: ptr<function, array<vec4<f32>, 4>>, M: u32, N: u32) {
  for (var r = 0u; r < 4u; r++) {
    let m = t.m0 + 4u * ty + r;
    if (m >= M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let n = t.n0 + 4u * tx + c;
      if (n < N) { storeC(t.g, m, n, (*acc)[r][c]); }
    }
  }
}

// One workgroup's whole block with scalar loads (aAlongK / bAlongK as in fillTilesScalar); the
// including file's uniform p holds batch, K, tilesM, tilesN, M and N of the GEMM.
fn gemmScalar(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, aAlongK: bool, bAlongK: bool) {
  let t = tileOf(wid, nwg, p.tilesM, p.tilesN, p.batch);
  if (!t.live) { return; }
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    fillTilesScalar(lid, t, k0, aAlongK, bAlongK);
    workgroupBarrier();
    multiplyTiles(lid % TX, lid / TX, &acc);
    workgroupBarrier();
  }
  storeTile(t, lid % TX, lid / TX, &acc, p.M, p.N);
}
