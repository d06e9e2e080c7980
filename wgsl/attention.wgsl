// Scaled dot-product attention (docs/ops/attention.md §4), flash-style: a workgroup owns 64 rows of
// one batch entry, one per invocation (queries for the forward and dq, keys for dk and dv), and
// streams the other side's rows through workgroup memory in tiles of p.tile rows; no kernel stores a
// score matrix. Bindings are named by role: `own` / `ownB` are the owned rows of width d / dv
// (q and dy, or k and v), `sideA` / `sideB` the streamed ones (k and v, or q and dy). Each section
// declares its bindings, a `struct P` with at least the fields the helpers below read, and the
// invocation's private rows rowA (its own row times scale), rowB and acc, each of DMAX floats (the
// host picks the smallest variant that fits).
// −∞ arrives as the uniform negInf (WGSL has no infinite literal); masked terms are skipped, so no
// result depends on e^−∞.

// The streamed tile: p.tile rows of sideA (width d), then p.tile rows of sideB: 15 KiB.
var<workgroup> tiles: array<f32, 3840>;

struct Place { batch: u32, r0: u32, spare: bool }

// The workgroup's batch entry and first owned row on the 2-D grid; spare past the last one.
fn place(wid: vec3<u32>, nwg: vec3<u32>) -> Place {
  let wg = wid.y * nwg.x + wid.x;
  return Place(wg / p.blocks, (wg % p.blocks) * 64u, wg >= p.B * p.blocks);
}

// rowA = scale · own row r (the scale folded into the one operand every score uses).
fn loadRowA(r: u32) {
  for (var c = 0u; c < p.d; c++) { rowA[c] = own[r * p.d + c] * p.scale; }
}

// Tile rows [r, r + n) of sideA (width d) and of sideB (width w), loaded by all 64 invocations.
fn loadTiles(lid: u32, r: u32, n: u32, w: u32) {
  for (var t = lid; t < n * p.d; t += 64u) { tiles[t] = sideA[r * p.d + t]; }
  let off = p.tile * p.d;
  for (var t = lid; t < n * w; t += 64u) { tiles[off + t] = sideB[r * w + t]; }
}

// Score of query i and key j, the owned row against tile row t: scale · q·k + mask, or −∞ where hidden.
fn score(t: u32, batch: u32, i: u32, j: u32) -> f32 {
  if (p.causal != 0u && j > i) { return p.negInf; }
  var s = 0.0;
  for (var c = 0u; c < p.d; c++) { s += rowA[c] * tiles[t * p.d + c]; }
  if (p.hasMask != 0u) { s += mask[batch * p.maskBatch + i * p.Nk + j]; }
  return s;
}

// rowB · sideB row t of the tile: dp_ij = dy_i · v_j in the backward kernels.
fn dotB(t: u32) -> f32 {
  let base = p.tile * p.d + t * p.dv;
  var s = 0.0;
  for (var c = 0u; c < p.dv; c++) { s += rowB[c] * tiles[base + c]; }
  return s;
}

// acc += w · sideA row t of the tile (width d).
fn addA(w: f32, t: u32) {
  for (var c = 0u; c < p.d; c++) { acc[c] += w * tiles[t * p.d + c]; }
}

// acc += w · sideB row t of the tile (width n).
fn addB(w: f32, t: u32, n: u32) {
  let base = p.tile * p.d + t * n;
  for (var c = 0u; c < n; c++) { acc[c] += w * tiles[base + c]; }
}

// @kernel attention
// own = q, sideA = k, sideB = v. Forward (stats 0): y [B, Nq, dv] by an online softmax per query
// row: running max m and sum l, the accumulator rescaled by e^(m_old − m_new) once per tile.
// stats 1: y [B, Nq] = m + log l, the row's logsumexp (v unread). A fully masked row gives zeros / −∞.
struct P { B: u32, Nq: u32, Nk: u32, d: u32, dv: u32, scale: f32, negInf: f32, maskBatch: u32, hasMask: u32, causal: u32, stats: u32, tile: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> own: array<f32>;
@group(0) @binding(2) var<storage, read> sideA: array<f32>;
@group(0) @binding(3) var<storage, read> sideB: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
var<private> rowA: array<f32, {{DMAX}}>;
var<private> rowB: array<f32, {{DMAX}}>;
var<private> acc: array<f32, {{DMAX}}>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let at = place(wid, nwg);
  if (at.spare) { return; }
  let i = at.r0 + lid;
  let row = min(i, p.Nq - 1u);
  loadRowA(at.batch * p.Nq + row);
  let dv = select(p.dv, 0u, p.stats != 0u);
  var s: array<f32, 64>;
  var m = p.negInf;
  var l = 0.0;
  // Causal: no query of this workgroup sees keys past its last row.
  let kEnd = select(p.Nk, min(p.Nk, at.r0 + 64u), p.causal != 0u);
  for (var j0 = 0u; j0 < kEnd; j0 += p.tile) {
    let n = min(p.tile, kEnd - j0);
    workgroupBarrier();
    loadTiles(lid, at.batch * p.Nk + j0, n, dv);
    workgroupBarrier();
    var tmax = p.negInf;
    for (var t = 0u; t < n; t++) {
      s[t] = score(t, at.batch, row, j0 + t);
      tmax = max(tmax, s[t]);
    }
    // A tile hidden from this row changes nothing (and must not end the loop: barriers follow).
    if (tmax != p.negInf) {
      let mNew = max(m, tmax);
      let alpha = select(exp(m - mNew), 0.0, m == p.negInf);
      l *= alpha;
      for (var c = 0u; c < dv; c++) { acc[c] *= alpha; }
      for (var t = 0u; t < n; t++) {
        if (s[t] == p.negInf) { continue; }
        let e = exp(s[t] - mNew);
        l += e;
        addB(e, t, dv);
      }
      m = mNew;
    }
  }
  if (i >= p.Nq) { return; }
  if (p.stats != 0u) {
    y[at.batch * p.Nq + i] = select(m + log(l), p.negInf, l == 0.0);
    return;
  }
  let inv = select(1.0 / l, 0.0, l == 0.0);
  for (var c = 0u; c < dv; c++) { y[(at.batch * p.Nq + i) * dv + c] = acc[c] * inv; }
}

// @kernel attentionGradQ
// own = q, ownB = dy, sideA = k, sideB = v. dq [B, Nq, d] = scale · Σ_j p_ij (dp_ij − D_i) k_j with
// p_ij = e^(s_ij − lse_i) from the row's logsumexp, dp_ij = dy_i · v_j and D_i = dy_i · o_i (o the
// forward output).
struct P { B: u32, Nq: u32, Nk: u32, d: u32, dv: u32, scale: f32, negInf: f32, maskBatch: u32, hasMask: u32, causal: u32, tile: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> own: array<f32>;
@group(0) @binding(2) var<storage, read> sideA: array<f32>;
@group(0) @binding(3) var<storage, read> sideB: array<f32>;
@group(0) @binding(4) var<storage, read> ownB: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> o: array<f32>;
@group(0) @binding(7) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<f32>;
var<private> rowA: array<f32, {{DMAX}}>;
var<private> rowB: array<f32, {{DMAX}}>;
var<private> acc: array<f32, {{DMAX}}>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let at = place(wid, nwg);
  if (at.spare) { return; }
  let i = at.r0 + lid;
  let r = at.batch * p.Nq + min(i, p.Nq - 1u);
  loadRowA(r);
  var D = 0.0;
  for (var c = 0u; c < p.dv; c++) {
    rowB[c] = ownB[r * p.dv + c];
    D += rowB[c] * o[r * p.dv + c];
  }
  let L = lse[r];
  // A fully masked row (lse −∞) has no gradient: it skips the work, never the barriers.
  let live = L != p.negInf;
  let kEnd = select(p.Nk, min(p.Nk, at.r0 + 64u), p.causal != 0u);
  for (var j0 = 0u; j0 < kEnd; j0 += p.tile) {
    let n = min(p.tile, kEnd - j0);
    workgroupBarrier();
    loadTiles(lid, at.batch * p.Nk + j0, n, p.dv);
    workgroupBarrier();
    for (var t = 0u; t < select(0u, n, live); t++) {
      let sc = score(t, at.batch, r - at.batch * p.Nq, j0 + t);
      if (sc == p.negInf) { continue; }
      addA(exp(sc - L) * (dotB(t) - D), t);
    }
  }
  if (i >= p.Nq) { return; }
  for (var c = 0u; c < p.d; c++) { y[r * p.d + c] = acc[c] * p.scale; }
}

// @kernel attentionGradKV
// own = k, ownB = v, sideA = q, sideB = dy; one invocation per key row j. The query rows' lse and
// D_i = dy_i · o_i (o the forward output) ride along with each tile.
// wantV 0: dk [B, Nk, d] = scale · Σ_i p_ij (dp_ij − D_i) q_i; wantV 1: dv [B, Nk, dv] = Σ_i p_ij dy_i.
struct P { B: u32, Nq: u32, Nk: u32, d: u32, dv: u32, scale: f32, negInf: f32, maskBatch: u32, hasMask: u32, causal: u32, wantV: u32, tile: u32, blocks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> sideA: array<f32>;
@group(0) @binding(2) var<storage, read> own: array<f32>;
@group(0) @binding(3) var<storage, read> ownB: array<f32>;
@group(0) @binding(4) var<storage, read> sideB: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> o: array<f32>;
@group(0) @binding(7) var<storage, read> mask: array<f32>;
@group(0) @binding(8) var<storage, read_write> y: array<f32>;
var<private> rowA: array<f32, {{DMAX}}>;
var<private> rowB: array<f32, {{DMAX}}>;
var<private> acc: array<f32, {{DMAX}}>;
var<workgroup> rowStats: array<vec2<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let at = place(wid, nwg);
  if (at.spare) { return; }
  let j = at.r0 + lid;
  let key = min(j, p.Nk - 1u);
  let r = at.batch * p.Nk + key;
  loadRowA(r);
  for (var c = 0u; c < p.dv; c++) { rowB[c] = ownB[r * p.dv + c]; }
  // Causal: queries before this workgroup's first key see none of its keys.
  for (var i0 = select(0u, at.r0, p.causal != 0u); i0 < p.Nq; i0 += p.tile) {
    let n = min(p.tile, p.Nq - i0);
    workgroupBarrier();
    loadTiles(lid, at.batch * p.Nq + i0, n, p.dv);
    if (lid < n) {
      let qr = at.batch * p.Nq + i0 + lid;
      var D = 0.0;
      for (var c = 0u; c < p.dv * (1u - p.wantV); c++) { D += sideB[qr * p.dv + c] * o[qr * p.dv + c]; }
      rowStats[lid] = vec2<f32>(lse[qr], D);
    }
    workgroupBarrier();
    for (var t = 0u; t < n; t++) {
      let L = rowStats[t].x;
      if (L == p.negInf) { continue; }
      let sc = score(t, at.batch, i0 + t, key);
      if (sc == p.negInf) { continue; }
      let e = exp(sc - L);
      if (p.wantV != 0u) { addB(e, t, p.dv); } else { addA(e * (dotB(t) - rowStats[t].y), t); }
    }
  }
  if (j >= p.Nk) { return; }
  let cols = select(p.d, p.dv, p.wantV != 0u);
  let f = select(p.scale, 1.0, p.wantV != 0u);
  for (var c = 0u; c < cols; c++) { y[r * cols + c] = acc[c] * f; }
}
