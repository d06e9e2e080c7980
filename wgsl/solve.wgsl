// Triangular solves of the TL-padded masked convolution (docs/inverse.md §2–§3, §7) and of its
// transpose (docs/inverse.md §5), per channel group, with per-group flips for the TR / BL / BR corners.
//
// Pixels on one anti-diagonal h + w = d are independent once every earlier diagonal is solved;
// the channels of a pixel are coupled through the centre tap, so each invocation runs the channel
// recurrence of its pixel itself. That makes the sequential depth H + W − 1 steps, never (H + W − 1)·Cg.
//  - solveTile: one workgroup per (image, group) keeps the Cg×H×W tile in workgroup memory and loops
//    over the diagonals with a workgroupBarrier between them: one dispatch per solve.
//  - solveDiagonal: the fallback when the tile does not fit; the host issues one dispatch per diagonal
//    (p.d) inside a single compute pass, which orders their storage accesses.
// The contract's 'raster' algorithm runs this same wavefront here: it visits the same dependencies,
// so the result is the same, and a sequential raster order would waste the GPU.
// {{TRANSPOSE}} (true / false) selects the transposed solve; {{TILE}} is the tile length in floats,
// {{WG}} the tile kernel's workgroup size.
// Pixel coordinates below are in TL orientation; at() applies the group's flips to reach memory.

struct P { N: u32, C: u32, H: u32, W: u32, Cg: u32, k: u32, groups: u32, unitDiag: u32, d: u32, jobs: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> rhs: array<f32>;
@group(0) @binding(2) var<storage, read> kern: array<f32>;
// flips[g]: bit 0 = W, bit 1 = H.
@group(0) @binding(3) var<storage, read> flips: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

const TRANSPOSE: bool = {{TRANSPOSE}};

fn at(n: u32, ch: u32, h: u32, w: u32, f: u32) -> u32 {
  let sh = select(h, p.H - 1u - h, (f & 2u) != 0u);
  let sw = select(w, p.W - 1u - w, (f & 1u) != 0u);
  return ((n * p.C + ch) * p.H + sh) * p.W + sw;
}

// First row of the diagonal d (rows hlo ..= min(d, H − 1)).
fn diagonalStart(d: u32) -> u32 {
  return select(0u, d + 1u - p.W, d >= p.W);
}

// x = T⁻¹ y at one pixel: channels ascending; the centre tap reads only channels i < c.
fn solvePixel(n: u32, g: u32, f: u32, h: u32, w: u32) {
  let k = p.k;
  let Cg = p.Cg;
  let kk = k * k;
  let uMax = min(k - 1u, h);
  let vMax = min(k - 1u, w);
  for (var c = 0u; c < Cg; c++) {
    let row = g * Cg + c;
    var acc = rhs[at(n, row, h, w, f)];
    for (var u = 0u; u <= uMax; u++) {
      for (var v = 0u; v <= vMax; v++) {
        let count = select(Cg, c, u == 0u && v == 0u);
        // kern[row, i, k−1−u, k−1−v] at kb + i·k²
        let kb = row * Cg * kk + (k - 1u - u) * k + (k - 1u - v);
        for (var i = 0u; i < count; i++) {
          acc -= kern[kb + i * kk] * load(n, g, f, i, h - u, w - v);
        }
      }
    }
    if (p.unitDiag == 0u) { acc /= kern[(row * Cg + c) * kk + kk - 1u]; }
    store(n, g, f, c, h, w, acc);
  }
}

// gy = T⁻ᵀ g at one pixel: channels descending, taps below-right, the kernel transposed in (o, c);
// the centre tap reads only channels o > c.
fn solvePixelT(n: u32, g: u32, f: u32, h: u32, w: u32) {
  let k = p.k;
  let Cg = p.Cg;
  let kk = k * k;
  let uMax = min(k - 1u, p.H - 1u - h);
  let vMax = min(k - 1u, p.W - 1u - w);
  for (var cc = 0u; cc < Cg; cc++) {
    let c = Cg - 1u - cc;
    var acc = rhs[at(n, g * Cg + c, h, w, f)];
    for (var u = 0u; u <= uMax; u++) {
      for (var v = 0u; v <= vMax; v++) {
        let first = select(0u, c + 1u, u == 0u && v == 0u);
        // kern[g·Cg + o, c, k−1−u, k−1−v] at kb + o·Cg·k²
        let kb = (g * Cg * Cg + c) * kk + (k - 1u - u) * k + (k - 1u - v);
        for (var o = first; o < Cg; o++) {
          acc -= kern[kb + o * Cg * kk] * load(n, g, f, o, h + u, w + v);
        }
      }
    }
    if (p.unitDiag == 0u) { acc /= kern[((g * Cg + c) * Cg + c) * kk + kk - 1u]; }
    store(n, g, f, c, h, w, acc);
  }
}

fn solveAt(n: u32, g: u32, f: u32, h: u32, w: u32) {
  if (TRANSPOSE) { solvePixelT(n, g, f, h, w); } else { solvePixel(n, g, f, h, w); }
}

// @kernel solveTile
var<workgroup> tile: array<f32, {{TILE}}>;
// About one invocation per pixel of the longest diagonal: idle invocations still cost at every barrier.
const WG: u32 = {{WG}}u;

fn load(n: u32, g: u32, f: u32, c: u32, h: u32, w: u32) -> f32 {
  return tile[(c * p.H + h) * p.W + w];
}

fn store(n: u32, g: u32, f: u32, c: u32, h: u32, w: u32, v: f32) {
  tile[(c * p.H + h) * p.W + w] = v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // p.jobs = N · groups workgroups; wid is uniform, so the early return keeps the barriers uniform.
  let job = wid.y * nwg.x + wid.x;
  if (job >= p.jobs) { return; }
  let n = job / p.groups;
  let g = job % p.groups;
  let f = flips[g];
  let last = p.H + p.W - 2u;
  for (var s = 0u; s <= last; s++) {
    let d = select(s, last - s, TRANSPOSE);
    let hhi = min(d, p.H - 1u);
    for (var h = diagonalStart(d) + lid; h <= hhi; h += WG) {
      solveAt(n, g, f, h, d - h);
    }
    workgroupBarrier();
  }
  let HW = p.H * p.W;
  for (var t = lid; t < p.Cg * HW; t += WG) {
    let r = t % HW;
    x[at(n, g * p.Cg + t / HW, r / p.W, r % p.W, f)] = tile[t];
  }
}

// @kernel solveDiagonal
fn load(n: u32, g: u32, f: u32, c: u32, h: u32, w: u32) -> f32 {
  return x[at(n, g * p.Cg + c, h, w, f)];
}

fn store(n: u32, g: u32, f: u32, c: u32, h: u32, w: u32, v: f32) {
  x[at(n, g * p.Cg + c, h, w, f)] = v;
}

// One invocation per (image, group, pixel of diagonal p.d).
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  let hlo = diagonalStart(p.d);
  let len = min(p.d, p.H - 1u) + 1u - hlo;
  if (i >= p.jobs * len) { return; }
  let job = i / len;
  let h = hlo + i % len;
  solveAt(job / p.groups, job % p.groups, flips[job % p.groups], h, p.d - h);
}
