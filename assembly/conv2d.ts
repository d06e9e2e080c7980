import { firstTask, nextTask } from './common';
import { hsum4 } from './util/simd-math';

/*
 * Convolutions as implicit GEMM over a packed, flattened image (docs/ops/conv2d.md). The source is
 * zero-padded and, for a stride s > 1, split into s_h·s_w phase planes (phase (ph, pw) holds padded
 * rows ph, ph + s_h, … and columns pw, pw + s_w, …). Laid out plane by plane with row stride Wq,
 * output position s = i·Wq + j reads the source at s + offset(k) for every K step k = (channel, tap):
 * one constant offset per step, so a tile of consecutive positions is plain f32x4 loads whatever the
 * stride, dilation or padding. Positions with j ≥ Wr are computed and thrown away.
 *
 * The input adjoint at stride s runs the same kernel once per output phase (outputs i·s + r), each
 * with the subset of taps that reach it: src/ops/conv2d.ts plans the phases, offsets and weights.
 *
 * Micro-kernels: 4 output channels × 8 positions (8 f32x4 accumulators, as many as fit without
 * spilling beside the 2 input and 4 splatted weight registers V8 hoists), or, for the last one or two
 * channels of a group (depthwise convolutions, channel counts not multiples of 4), 1 channel × 16
 * positions. Every output sums k = 0 … K−1 in order, whichever micro-kernel and thread computes it.
 * The commonest depthwise conv (3×3, stride 1, padding 1) has its own direct kernel,
 * convDepthwise3x3, that reads the unpadded planes.
 */

/**
 * Packs weights as [g][rowBlock][k][4] with k = c·ntaps + j: four output rows interleaved, so the
 * micro-kernel splats four consecutive floats. Element (g, r, c, j) is
 * w[g·gs + r·rs + c·cs + taps[j]]; rows past `rows` are zero.
 */
export function convPackWeights(w: usize, dst: usize, G: i32, rows: i32, cols: i32, ntaps: i32, taps: usize,
  gs: i32, rs: i32, cs: i32, tid: i32, nt: i32): void {
  const rb = (rows + 3) >> 2;
  const total = G * rb;
  const K = cols * ntaps;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const g = task / rb, r0 = (task % rb) << 2;
    const d = dst + (<usize>(task * K) << 4);
    for (let j = 0; j < 4; j++) {
      const r = r0 + j;
      const dj = d + (<usize>j << 2);
      if (r >= rows) {
        for (let e = 0; e < K; e++) store<f32>(dj + (<usize>e << 4), 0);
        continue;
      }
      const src = w + (<usize>(g * gs + r * rs) << 2);
      let e = 0;
      for (let c = 0; c < cols; c++) {
        const sc = src + (<usize>(c * cs) << 2);
        for (let t = 0; t < ntaps; t++, e++)
          store<f32>(dj + (<usize>e << 4), load<f32>(sc + (<usize>load<i32>(taps + (<usize>t << 2)) << 2)));
      }
    }
  }
}

/** Packs `planes` images H × W (see packPlane); plane p goes to dst + p·ps floats. */
export function convPackInput(src: usize, dst: usize, planes: i32, H: i32, W: i32, top: i32, left: i32,
  sh: i32, sw: i32, Hq: i32, Wq: i32, pps: i32, ps: i32, tid: i32, nt: i32): void {
  for (let pl = firstTask(planes, nt); pl < planes; pl = nextTask(pl, planes))
    packPlane(src + (<usize>(pl * H * W) << 2), dst + (<usize>(pl * ps) << 2), H, W, top, left, sh, sw, Hq, Wq, pps);
}

/**
 * Phase plane (ph, pw) at d + (ph·sw + pw)·pps: [i][j] = s[i·sh + ph − top][j·sw + pw − left] for
 * i < Hq, j < Wq, zero outside s; each plane's tail up to pps is zeroed so over-reads stay finite.
 */
function packPlane(s: usize, d: usize, H: i32, W: i32, top: i32, left: i32, sh: i32, sw: i32, Hq: i32, Wq: i32, pps: i32): void {
  if (sh == 1 && sw == 1) {
    padPlane(s, d, H, W, Hq, Wq, top, left, pps);
    return;
  }
  for (let ph = 0; ph < sh; ph++) {
    if (sw == 2) {
      packPhasePair(s, d + (<usize>(2 * ph * pps) << 2), d + (<usize>((2 * ph + 1) * pps) << 2), H, W, top, left, sh, ph, Hq, Wq, pps);
      continue;
    }
    for (let pw = 0; pw < sw; pw++) {
      const dp = d + (<usize>((ph * sw + pw) * pps) << 2);
      const j0 = firstCol(left, pw, sw, Wq), j1 = endCol(W, left, pw, sw, Wq, j0);
      for (let i = 0; i < Hq; i++) {
        const dr = dp + (<usize>(i * Wq) << 2);
        const h = i * sh + ph - top;
        if (h < 0 || h >= H) {
          zeroRun(dr, Wq);
          continue;
        }
        zeroRun(dr, j0);
        copyStrided(dr, s + (<usize>(h * W) << 2), j0, j1, sw, pw - left);
        zeroRun(dr + (<usize>j1 << 2), Wq - j1);
      }
      zeroRun(dp + (<usize>(Hq * Wq) << 2), pps - Hq * Wq);
    }
  }
}

/** First column j of phase pw whose source column j·sw + pw − left is ≥ 0 (clamped to [0, Wq]). */
@inline
function firstCol(left: i32, pw: i32, sw: i32, Wq: i32): i32 {
  return min(Wq, max(0, ceilDiv(left - pw, sw)));
}

/** One past the last column j of phase pw whose source column is < W (clamped to [j0, Wq]). */
@inline
function endCol(W: i32, left: i32, pw: i32, sw: i32, Wq: i32, j0: i32): i32 {
  return min(Wq, max(j0, ceilDiv(W + left - pw, sw)));
}

/** dr[j] = sr[j·sw + shift] for j in [j0, j1). */
@inline
function copyStrided(dr: usize, sr: usize, j0: i32, j1: i32, sw: i32, shift: i32): void {
  for (let j = j0; j < j1; j++) store<f32>(dr + (<usize>j << 2), load<f32>(sr + (<usize>(j * sw + shift) << 2)));
}

/**
 * Both column phases of row phase ph at stride sw = 2 in one pass over each source row: source
 * column c belongs to phase (c + left) mod 2 at column (c + left − phase) / 2, so one pair of loads
 * of 8 columns fills four columns of each phase (even lanes to one, odd lanes to the other).
 */
function packPhasePair(s: usize, d0: usize, d1: usize, H: i32, W: i32, top: i32, left: i32, sh: i32, ph: i32,
  Hq: i32, Wq: i32, pps: i32): void {
  const a0 = firstCol(left, 0, 2, Wq), b0 = endCol(W, left, 0, 2, Wq, a0);
  const a1 = firstCol(left, 1, 2, Wq), b1 = endCol(W, left, 1, 2, Wq, a1);
  // Even source columns go to phase pe, odd ones to the other; the planes as seen from the source.
  const pe = left & 1;
  const de = pe ? d1 : d0, dodd = pe ? d0 : d1;
  // Source columns [0, cLim) land inside both planes (columns past Wq are never read).
  const cLim = min(W, min(2 * b0 - left, 2 * b1 + 1 - left));
  const je = (left - pe) >> 1, jo = (1 + left - (pe ^ 1)) >> 1;
  for (let i = 0; i < Hq; i++) {
    const r0 = d0 + (<usize>(i * Wq) << 2), r1 = d1 + (<usize>(i * Wq) << 2);
    const h = i * sh + ph - top;
    if (h < 0 || h >= H) {
      zeroRun(r0, Wq);
      zeroRun(r1, Wq);
      continue;
    }
    const sr = s + (<usize>(h * W) << 2);
    zeroRun(r0, a0);
    zeroRun(r1, a1);
    const re = de + (<usize>(i * Wq + je) << 2), ro = dodd + (<usize>(i * Wq + jo) << 2);
    let c = 0;
    for (; c + 8 <= cLim; c += 8) {
      const lo = v128.load(sr + (<usize>c << 2)), hi = v128.load(sr + (<usize>c << 2), 16);
      v128.store(re + (<usize>c << 1), v128.shuffle<f32>(lo, hi, 0, 2, 4, 6));
      v128.store(ro + (<usize>c << 1), v128.shuffle<f32>(lo, hi, 1, 3, 5, 7));
    }
    copyStrided(r0, sr, max(a0, (c + left) >> 1), b0, 2, -left);
    copyStrided(r1, sr, max(a1, (c + left) >> 1), b1, 2, 1 - left);
    zeroRun(r0 + (<usize>b0 << 2), Wq - b0);
    zeroRun(r1 + (<usize>b1 << 2), Wq - b1);
  }
  zeroRun(d0 + (<usize>(Hq * Wq) << 2), pps - Hq * Wq);
  zeroRun(d1 + (<usize>(Hq * Wq) << 2), pps - Hq * Wq);
}

/** ceil(a / b) for b > 0 and any sign of a (i32 division truncates toward zero). */
@inline
function ceilDiv(a: i32, b: i32): i32 {
  return a > 0 ? (a + b - 1) / b : -((-a) / b);
}

/**
 * d[hp][wp] = s[hp − top][wp − left], zero outside s (negative pads crop); the plane tail from
 * Hp·Wp to ps is zeroed so over-reads stay finite.
 */
function padPlane(s: usize, d: usize, H: i32, W: i32, Hp: i32, Wp: i32, top: i32, left: i32, ps: i32): void {
  const w0 = min(Wp, max(0, left)), w1 = max(w0, min(Wp, W + left));
  // Fast path: whole rows copied in f32x4 steps, overrunning up to 3 floats past the row. Rows are
  // written in order, so the next row (or the zeroed bottom rows and plane tail) overwrites the
  // overrun; the tail must absorb the last row's, or it would reach the next plane.
  const fast = left >= 0 && W + left <= Wp && ps - Hp * Wp >= 4;
  const W4 = (W + 3) & ~3;
  for (let hp = 0; hp < Hp; hp++) {
    const dr = d + (<usize>(hp * Wp) << 2);
    const h = hp - top;
    if (h < 0 || h >= H) { zeroRun(dr, Wp); continue; }
    zeroRun(dr, w0);
    if (fast) {
      const sr = s + (<usize>(h * W) << 2), dc = dr + (<usize>left << 2);
      for (let j = 0; j < W4; j += 4) v128.store(dc + (<usize>j << 2), v128.load(sr + (<usize>j << 2)));
      zeroRun(dr + (<usize>(W + left) << 2), Wp - W - left);
      continue;
    }
    const sr = s + (<usize>(h * W + w0 - left) << 2);
    const dc = dr + (<usize>w0 << 2);
    const n = w1 - w0;
    let j = 0;
    for (; j + 4 <= n; j += 4) v128.store(dc + (<usize>j << 2), v128.load(sr + (<usize>j << 2)));
    for (; j < n; j++) store<f32>(dc + (<usize>j << 2), load<f32>(sr + (<usize>j << 2)));
    zeroRun(dr + (<usize>w1 << 2), Wp - w1);
  }
  zeroRun(d + (<usize>(Hp * Wp) << 2), ps - Hp * Wp);
}

@inline
function zeroRun(p: usize, n: i32): void {
  const z = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(p + (<usize>j << 2), z);
  for (; j < n; j++) store<f32>(p + (<usize>j << 2), 0);
}

/**
 * y (N, G·rows, Ho, Wo) from a source of N × G·cols planes H × W and packed weights. Threads split
 * (image, group, output phase, 4-row block) tasks. Phase e of the table `phases` (8 i32 each:
 * K, kBase, Hr, Wr, ry, rx) covers outputs (i·osh + ry, j·osw + rx), i < Hr, j < Wr, and sums its
 * K steps: offsets offs[kBase …], weights at wpk + G·rb·kBase·4 floats. Each task fills a private
 * tile of 4 rows × Hr·Wq positions (rounded up to the micro-kernel's width) and copies the valid
 * columns out, adding the bias (bias = 0: none). With pack = 1 each thread packs the image group
 * it works on into its own scratch just before use, so the packed copy is still in L2 when the
 * tiles read it; with pack = 0 the source is read in place (ps = H·W).
 */
export function convGemm(x: usize, H: i32, W: i32, pack: i32, top: i32, left: i32, sh: i32, sw: i32,
  Hq: i32, Wq: i32, pps: i32, ps: i32, wpk: usize, offs: usize, phases: usize, nph: i32,
  y: usize, Ho: i32, Wo: i32, osh: i32, osw: i32, bias: usize, scratch: usize, tileF: i32,
  N: i32, G: i32, cols: i32, rows: i32, chunk: i32, tid: i32, nt: i32): void {
  const rb = (rows + 3) >> 2;
  const mine = scratch + <usize>tid * (<usize>(tileF + (pack ? cols * ps : 0)) << 2);
  const tile = mine;
  const packed = mine + (<usize>tileF << 2);
  let packOf = -1;
  const total = N * G * nph * rb;
  const Co = G * rows;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const r0 = (task % rb) << 2;
    const e = phases + (<usize>((task / rb) % nph) << 5);
    const ng = task / (rb * nph);
    const g = ng % G, n = ng / G;
    let xg = x + (<usize>(ng * cols * ps) << 2);
    if (pack) {
      if (ng != packOf) {
        for (let c = 0; c < cols; c++)
          packPlane(x + (<usize>((ng * cols + c) * H * W) << 2), packed + (<usize>(c * ps) << 2), H, W, top, left, sh, sw, Hq, Wq, pps);
        packOf = ng;
      }
      xg = packed;
    }
    const K = load<i32>(e), kBase = load<i32>(e, 4), Hr = load<i32>(e, 8), Wr = load<i32>(e, 12);
    const ry = load<i32>(e, 16), rx = load<i32>(e, 20);
    const nr = min(4, rows - r0);
    // Positions per tile row: a multiple of the micro-kernel's width (8 for 4 rows, 16 for 1).
    const width = nr >= 3 ? 8 : 16;
    const Lr = (Hr * Wq + width - 1) & -width;
    // When the width divides Wr, the kernel walks each output row's Wr positions and skips the
    // Wq − Wr columns of padding or phase overhang (16×16 outputs with Wq = 17: 256 positions
    // instead of 272). Otherwise it walks the flat run of Lr positions, a few thrown away per row.
    const byRow = Hr > 1 && Wr % width == 0 && Hr * Wr < Lr;
    const nrow = byRow ? Hr : 1, rowLen = byRow ? Wr : Lr;
    const wg = wpk + (<usize>(G * rb * kBase + (g * rb + (r0 >> 2)) * K) << 4);
    const po = offs + (<usize>kBase << 2);
    if (K == 0) memory.fill(tile, 0, <usize>(nr * Lr) << 2);
    else if (nr >= 3) tile4x8(xg, wg, po, K, chunk, tile, Lr, nrow, rowLen, Wq);
    else for (let j = 0; j < nr; j++) tile1x16(xg, wg + (<usize>j << 2), po, K, chunk, tile + (<usize>(j * Lr) << 2), nrow, rowLen, Wq);
    for (let j = 0; j < nr; j++) {
      const o = g * rows + r0 + j;
      const bv: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
      const bvec = f32x4.splat(bv);
      const src = tile + (<usize>(j * Lr) << 2);
      const dst = y + (<usize>((n * Co + o) * Ho * Wo + ry * Wo + rx) << 2);
      for (let i = 0; i < Hr; i++) {
        const sr = src + (<usize>(i * Wq) << 2), dr = dst + (<usize>(i * osh * Wo) << 2);
        if (osw == 1) {
          let q = 0;
          for (; q + 4 <= Wr; q += 4) v128.store(dr + (<usize>q << 2), f32x4.add(v128.load(sr + (<usize>q << 2)), bvec));
          for (; q < Wr; q++) store<f32>(dr + (<usize>q << 2), load<f32>(sr + (<usize>q << 2)) + bv);
        } else {
          for (let q = 0; q < Wr; q++) store<f32>(dr + (<usize>(q * osw) << 2), load<f32>(sr + (<usize>q << 2)) + bv);
        }
      }
    }
  }
}

/**
 * 4 rows × 8 positions per step over positions i·Wq + j (i < nrow, j < rowLen); K walked in chunks
 * that stay in L1 across tiles.
 */
@inline
function tile4x8(xg: usize, wg: usize, offs: usize, K: i32, chunk: i32, tile: usize, Lr: i32, nrow: i32, rowLen: i32, Wq: i32): void {
  const rowBytes = <usize>Lr << 2;
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const k1 = min(K, k0 + chunk);
    for (let i = 0; i < nrow; i++) for (let s = i * Wq, sEnd = s + rowLen; s < sEnd; s += 8) {
      const pt = tile + (<usize>s << 2);
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      if (k0 > 0) {
        c00 = v128.load(pt); c01 = v128.load(pt, 16);
        c10 = v128.load(pt + rowBytes); c11 = v128.load(pt + rowBytes, 16);
        c20 = v128.load(pt + 2 * rowBytes); c21 = v128.load(pt + 2 * rowBytes, 16);
        c30 = v128.load(pt + 3 * rowBytes); c31 = v128.load(pt + 3 * rowBytes, 16);
      }
      const xs = xg + (<usize>s << 2);
      let pw = wg + (<usize>k0 << 4), po = offs + (<usize>k0 << 2);
      const poEnd = offs + (<usize>k1 << 2);
      // One K step per iteration: V8 hoists every load of a block to its top, so unrolling
      // doubles the live registers and spills accumulators (seen in --print-wasm-code).
      while (po < poEnd) {
        const px = xs + (<usize>load<i32>(po) << 2);
        const x0 = v128.load(px), x1 = v128.load(px, 16);
        let w = v128.load32_splat(pw);
        c00 = f32x4.add(c00, f32x4.mul(w, x0)); c01 = f32x4.add(c01, f32x4.mul(w, x1));
        w = v128.load32_splat(pw, 4);
        c10 = f32x4.add(c10, f32x4.mul(w, x0)); c11 = f32x4.add(c11, f32x4.mul(w, x1));
        w = v128.load32_splat(pw, 8);
        c20 = f32x4.add(c20, f32x4.mul(w, x0)); c21 = f32x4.add(c21, f32x4.mul(w, x1));
        w = v128.load32_splat(pw, 12);
        c30 = f32x4.add(c30, f32x4.mul(w, x0)); c31 = f32x4.add(c31, f32x4.mul(w, x1));
        pw += 16; po += 4;
      }
      v128.store(pt, c00); v128.store(pt, c01, 16);
      v128.store(pt + rowBytes, c10); v128.store(pt + rowBytes, c11, 16);
      v128.store(pt + 2 * rowBytes, c20); v128.store(pt + 2 * rowBytes, c21, 16);
      v128.store(pt + 3 * rowBytes, c30); v128.store(pt + 3 * rowBytes, c31, 16);
    }
  }
}

/**
 * 1 row × 16 positions per step over positions i·Wq + j (i < nrow, j < rowLen): depthwise and
 * leftover rows; the row's weights are lane 0 of w.
 * (1 × 32 was slower: V8 hoists the 8 loads of a step beside 8 accumulators and spills.)
 */
@inline
function tile1x16(xg: usize, w: usize, offs: usize, K: i32, chunk: i32, tile: usize, nrow: i32, rowLen: i32, Wq: i32): void {
  for (let k0 = 0; k0 < K; k0 += chunk) {
    const k1 = min(K, k0 + chunk);
    const poEnd = offs + (<usize>k1 << 2);
    for (let i = 0; i < nrow; i++) for (let s = i * Wq, sEnd = s + rowLen; s < sEnd; s += 16) {
      const pt = tile + (<usize>s << 2);
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      if (k0 > 0) {
        c0 = v128.load(pt); c1 = v128.load(pt, 16); c2 = v128.load(pt, 32); c3 = v128.load(pt, 48);
      }
      const xs = xg + (<usize>s << 2);
      let pw = w + (<usize>k0 << 4), po = offs + (<usize>k0 << 2);
      while (po < poEnd) {
        const px = xs + (<usize>load<i32>(po) << 2);
        const wv = v128.load32_splat(pw);
        c0 = f32x4.add(c0, f32x4.mul(wv, v128.load(px)));
        c1 = f32x4.add(c1, f32x4.mul(wv, v128.load(px, 16)));
        c2 = f32x4.add(c2, f32x4.mul(wv, v128.load(px, 32)));
        c3 = f32x4.add(c3, f32x4.mul(wv, v128.load(px, 48)));
        pw += 16; po += 4;
      }
      v128.store(pt, c0); v128.store(pt, c1, 16); v128.store(pt, c2, 32); v128.store(pt, c3, 48);
    }
  }
}

/**
 * Depthwise 3×3, stride 1, dilation 1, padding 1 on every side (Cig = 1, any multiplier `rows`),
 * straight from the unpadded planes: no packed copy, no tile, no wasted columns. The nine weights
 * of the output channel stay in registers; each f32x4 of outputs reads, per source row, the
 * vector at q and the vectors at q ∓ 1 (plain unaligned loads inside the row; at the first and
 * last vector of a row the missing neighbour is shuffled in as zero), and missing rows at the top
 * and bottom are skipped. Tasks are (plane, block of rowsPerTask output rows); every output sums
 * the rows top, middle, bottom and in each row the taps left, centre, right, then adds the bias,
 * whoever computes it, so results do not depend on the thread count.
 */
export function convDepthwise3x3(x: usize, w: usize, bias: usize, y: usize, N: i32, G: i32, rows: i32,
  H: i32, W: i32, rowsPerTask: i32, tid: i32, nt: i32): void {
  const C = G * rows;
  const rb = (H + rowsPerTask - 1) / rowsPerTask;
  const total = N * C * rb;
  const rowBytes = <usize>W << 2;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const plane = task / rb, p0 = (task % rb) * rowsPerTask, p1 = min(H, p0 + rowsPerTask);
    const n = plane / C, o = plane % C, g = o / rows;
    const xs = x + (<usize>((n * G + g) * H * W) << 2);
    const ys = y + (<usize>(plane * H * W) << 2);
    const wo = w + (<usize>(o * 9) << 2);
    const bv: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
    for (let p = p0; p < p1; p++) {
      const r1 = xs + (<usize>(p * W) << 2);
      const yr = ys + (<usize>(p * W) << 2);
      if (p > 0 && p + 1 < H) dwRow(r1 - rowBytes, r1, r1 + rowBytes, yr, W, wo, bv, true, true);
      else dwRow(r1 - rowBytes, r1, r1 + rowBytes, yr, W, wo, bv, p > 0, p + 1 < H);
    }
  }
}

/** One output row of convDepthwise3x3 from source rows r0 (if up), r1, r2 (if down). */
@inline
function dwRow(r0: usize, r1: usize, r2: usize, yr: usize, W: i32, wo: usize, bv: f32, up: bool, down: bool): void {
  const w00 = v128.load32_splat(wo), w01 = v128.load32_splat(wo, 4), w02 = v128.load32_splat(wo, 8);
  const w10 = v128.load32_splat(wo, 12), w11 = v128.load32_splat(wo, 16), w12 = v128.load32_splat(wo, 20);
  const w20 = v128.load32_splat(wo, 24), w21 = v128.load32_splat(wo, 28), w22 = v128.load32_splat(wo, 32);
  const bvec = f32x4.splat(bv);
  let q = 0;
  if (W >= 4) {
    v128.store(yr, f32x4.add(dwEdge(r0, r1, r2, 0, W, w00, w01, w02, w10, w11, w12, w20, w21, w22, up, down), bvec));
    q = 4;
  }
  for (; q + 4 < W; q += 4) {
    const b = <usize>q << 2;
    let acc = f32x4.splat(0);
    if (up) acc = dwTaps(acc, v128.load(r0 + b - 4), v128.load(r0 + b), v128.load(r0 + b + 4), w00, w01, w02);
    acc = dwTaps(acc, v128.load(r1 + b - 4), v128.load(r1 + b), v128.load(r1 + b + 4), w10, w11, w12);
    if (down) acc = dwTaps(acc, v128.load(r2 + b - 4), v128.load(r2 + b), v128.load(r2 + b + 4), w20, w21, w22);
    v128.store(yr + b, f32x4.add(acc, bvec));
  }
  if (q > 0 && q + 4 == W) {
    v128.store(yr + (<usize>q << 2), f32x4.add(dwEdge(r0, r1, r2, q, W, w00, w01, w02, w10, w11, w12, w20, w21, w22, up, down), bvec));
    q += 4;
  }
  // Columns past the last full vector (W not a multiple of 4): the same sums, one column at a time.
  for (; q < W; q++) {
    let acc: f32 = 0;
    if (up) acc = dwTap(acc, r0, q, W, load<f32>(wo), load<f32>(wo, 4), load<f32>(wo, 8));
    acc = dwTap(acc, r1, q, W, load<f32>(wo, 12), load<f32>(wo, 16), load<f32>(wo, 20));
    if (down) acc = dwTap(acc, r2, q, W, load<f32>(wo, 24), load<f32>(wo, 28), load<f32>(wo, 32));
    store<f32>(yr + (<usize>q << 2), acc + bv);
  }
}

/** The vector at q when q = 0 or q + 4 ≥ W: out-of-row neighbours are zero lanes. */
@inline
function dwEdge(r0: usize, r1: usize, r2: usize, q: i32, W: i32, w00: v128, w01: v128, w02: v128,
  w10: v128, w11: v128, w12: v128, w20: v128, w21: v128, w22: v128, up: bool, down: bool): v128 {
  let acc = f32x4.splat(0);
  if (up) acc = dwEdgeRow(acc, r0, q, W, w00, w01, w02);
  acc = dwEdgeRow(acc, r1, q, W, w10, w11, w12);
  if (down) acc = dwEdgeRow(acc, r2, q, W, w20, w21, w22);
  return acc;
}

@inline
function dwEdgeRow(acc: v128, r: usize, q: i32, W: i32, a: v128, b: v128, c: v128): v128 {
  const z = f32x4.splat(0);
  const p = r + (<usize>q << 2);
  const m = v128.load(p);
  const l = q > 0 ? v128.load(p - 4) : v128.shuffle<f32>(z, m, 3, 4, 5, 6);
  const rr = q + 4 < W ? v128.load(p + 4) : v128.shuffle<f32>(m, z, 1, 2, 3, 4);
  return dwTaps(acc, l, m, rr, a, b, c);
}

@inline
function dwTaps(acc: v128, l: v128, m: v128, r: v128, a: v128, b: v128, c: v128): v128 {
  acc = f32x4.add(acc, f32x4.mul(a, l));
  acc = f32x4.add(acc, f32x4.mul(b, m));
  return f32x4.add(acc, f32x4.mul(c, r));
}

@inline
function dwTap(acc: f32, r: usize, q: i32, W: i32, a: f32, b: f32, c: f32): f32 {
  const p = r + (<usize>q << 2);
  acc += a * (q > 0 ? load<f32>(p - 4) : 0);
  acc += b * load<f32>(p);
  return acc + c * (q + 1 < W ? load<f32>(p + 4) : 0);
}

/**
 * dw (G·rows, cols·taps) = Σ_n Σ_s dyp[n, o, s] · xp[n, c, s + offs[k]]: dy embedded in the packed
 * width with zero columns, so every K step (channel, tap) is a dot product of two contiguous runs of
 * L4 floats. Register tiles: 4 rows × 2 K steps (4 dy runs, 2 shifted x runs, 8 accumulators), or
 * 1 row × 4 K steps for the last one or two rows of a group (depthwise). Images outermost so one
 * image's planes stay in L2 while all K steps pass. Threads split 4-row blocks; each dw element sums
 * n, then s (four lane partial sums, then the lanes), in a fixed order.
 */
export function convGradFilter(xp: usize, xps: i32, dyp: usize, dyps: i32, offs: usize, K: i32, dw: usize,
  N: i32, G: i32, cols: i32, rows: i32, L4: i32, tid: i32, nt: i32): void {
  const rb = (rows + 3) >> 2;
  const total = G * rb;
  const runBytes = <usize>L4 << 2;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const g = task / rb, r0 = (task % rb) << 2;
    const nr = min(4, rows - r0);
    const dwr = dw + (<usize>((g * rows + r0) * K) << 2);
    memory.fill(dwr, 0, <usize>(nr * K) << 2);
    for (let n = 0; n < N; n++) {
      const xg = xp + (<usize>((n * G + g) * cols * xps) << 2);
      const dr = dyp + (<usize>((n * G * rows + g * rows + r0) * dyps) << 2);
      if (nr >= 3) {
        // The fourth row repeats the third when there are three: computed, never stored.
        const d0 = dr, d1 = dr + (<usize>dyps << 2), d2 = dr + (<usize>(2 * dyps) << 2);
        const d3 = dr + (<usize>((nr - 1) * dyps) << 2);
        for (let j0 = 0; j0 < K; j0 += 2) {
          const j1 = min(j0 + 1, K - 1);
          const px0 = xg + (<usize>load<i32>(offs + (<usize>j0 << 2)) << 2);
          const px1 = xg + (<usize>load<i32>(offs + (<usize>j1 << 2)) << 2);
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
          let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
          for (let so: usize = 0; so < runBytes; so += 16) {
            const x0 = v128.load(px0 + so), x1 = v128.load(px1 + so);
            let d = v128.load(d0 + so);
            a00 = f32x4.add(a00, f32x4.mul(d, x0)); a01 = f32x4.add(a01, f32x4.mul(d, x1));
            d = v128.load(d1 + so);
            a10 = f32x4.add(a10, f32x4.mul(d, x0)); a11 = f32x4.add(a11, f32x4.mul(d, x1));
            d = v128.load(d2 + so);
            a20 = f32x4.add(a20, f32x4.mul(d, x0)); a21 = f32x4.add(a21, f32x4.mul(d, x1));
            d = v128.load(d3 + so);
            a30 = f32x4.add(a30, f32x4.mul(d, x0)); a31 = f32x4.add(a31, f32x4.mul(d, x1));
          }
          const two = j1 != j0;
          addTo(dwr, j0, hsum4(a00)); if (two) addTo(dwr, j1, hsum4(a01));
          addTo(dwr, K + j0, hsum4(a10)); if (two) addTo(dwr, K + j1, hsum4(a11));
          addTo(dwr, 2 * K + j0, hsum4(a20)); if (two) addTo(dwr, 2 * K + j1, hsum4(a21));
          if (nr > 3) { addTo(dwr, 3 * K + j0, hsum4(a30)); if (two) addTo(dwr, 3 * K + j1, hsum4(a31)); }
        }
        continue;
      }
      for (let r = 0; r < nr; r++) {
        const d0 = dr + (<usize>(r * dyps) << 2);
        const out = dwr + (<usize>(r * K) << 2);
        for (let j0 = 0; j0 < K; j0 += 4) {
          // K steps past the end repeat the last one: computed, never stored.
          const j1 = min(j0 + 1, K - 1), j2 = min(j0 + 2, K - 1), j3 = min(j0 + 3, K - 1);
          const px0 = xg + (<usize>load<i32>(offs + (<usize>j0 << 2)) << 2);
          const px1 = xg + (<usize>load<i32>(offs + (<usize>j1 << 2)) << 2);
          const px2 = xg + (<usize>load<i32>(offs + (<usize>j2 << 2)) << 2);
          const px3 = xg + (<usize>load<i32>(offs + (<usize>j3 << 2)) << 2);
          let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
          for (let so: usize = 0; so < runBytes; so += 16) {
            const d = v128.load(d0 + so);
            a0 = f32x4.add(a0, f32x4.mul(d, v128.load(px0 + so)));
            a1 = f32x4.add(a1, f32x4.mul(d, v128.load(px1 + so)));
            a2 = f32x4.add(a2, f32x4.mul(d, v128.load(px2 + so)));
            a3 = f32x4.add(a3, f32x4.mul(d, v128.load(px3 + so)));
          }
          addTo(out, j0, hsum4(a0));
          if (j1 != j0) addTo(out, j1, hsum4(a1));
          if (j2 != j1) addTo(out, j2, hsum4(a2));
          if (j3 != j2) addTo(out, j3, hsum4(a3));
        }
      }
    }
  }
}

@inline
function addTo(p: usize, i: i32, v: f32): void {
  const q = p + (<usize>i << 2);
  store<f32>(q, load<f32>(q) + v);
}
