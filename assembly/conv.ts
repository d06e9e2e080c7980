import { firstTask, nextTask } from './common';

/*
 * Convolutions as implicit GEMM over a padded, flattened image. With the input zero-padded to
 * Hp×Wp and laid out plane by plane (plane stride ps), output (p, q) reads xp[p·Wp + q + a·Wp + b]
 * for tap (a, b): every tap is one constant offset, so a tile of 8 consecutive flattened
 * positions s is two plain f32x4 loads per (channel, tap), whatever the padding. Positions with
 * q ≥ Wo are computed and thrown away (Wp − Wo wasted columns per row; a row's right padding
 * doubles as the next row's left padding, see paddedWidth in src/backends/wasm/conv.ts).
 * Tiles are 4 output channels × 8 positions: 8 f32x4 accumulators, which with the 2 input and
 * 4 splatted weight registers V8 hoists is as many as fit without spilling.
 */

/**
 * Packs weights as [g][rowBlock][col][tap][4]: four output rows interleaved, so the micro-kernel
 * splats four consecutive floats. Element (g, r, c, t) comes from
 * w[g·gs + r·rs + c·cs + (flip ? taps − 1 − t : t)]; rows past rowsPerGroup are zero.
 * The strides let conv2dGradInput reuse the forward kernel with transposed, flipped weights.
 */
export function convPack(w: usize, dst: usize, G: i32, rowsPerGroup: i32, colsPerGroup: i32, taps: i32,
  gs: i32, rs: i32, cs: i32, flip: i32, tid: i32, nt: i32): void {
  const rb = (rowsPerGroup + 3) >> 2;
  const total = G * rb;
  const K = colsPerGroup * taps;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const g = task / rb, r0 = (task % rb) << 2;
    const d = dst + (<usize>(task * K) << 4);
    for (let j = 0; j < 4; j++) {
      const r = r0 + j;
      const dj = d + (<usize>j << 2);
      if (r >= rowsPerGroup) {
        for (let e = 0; e < K; e++) store<f32>(dj + (<usize>e << 4), 0);
        continue;
      }
      const src = w + (<usize>(g * gs + r * rs) << 2);
      if (!flip && cs == taps) {
        // The forward layout: a row's (col, tap) entries are contiguous in w.
        for (let e = 0; e < K; e++) store<f32>(dj + (<usize>e << 4), load<f32>(src + (<usize>e << 2)));
        continue;
      }
      for (let c = 0; c < colsPerGroup; c++)
        for (let t = 0; t < taps; t++)
          store<f32>(dj + (<usize>(c * taps + t) << 4), load<f32>(src + (<usize>(c * cs + (flip ? taps - 1 - t : t)) << 2)));
    }
  }
}

/**
 * dst[pl][hp][wp] = src[pl][hp − top][wp − left], zero outside src (negative pads crop); the
 * plane tail from Hp·Wp to the plane stride is zeroed so over-reads stay finite.
 */
export function convPad(src: usize, dst: usize, planes: i32, H: i32, W: i32, Hp: i32, Wp: i32,
  top: i32, left: i32, ps: i32, tid: i32, nt: i32): void {
  for (let pl = firstTask(planes, nt); pl < planes; pl = nextTask(pl, planes))
    padPlane(src + (<usize>(pl * H * W) << 2), dst + (<usize>(pl * ps) << 2), H, W, Hp, Wp, top, left, ps);
}

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

/** Element offsets of every (input channel, tap) relative to the tile start: the GEMM's K axis. */
export function convOffsets(dst: usize, cols: i32, kh: i32, kw: i32, ps: i32, Wp: i32): void {
  let d = dst;
  for (let c = 0; c < cols; c++)
    for (let a = 0; a < kh; a++)
      for (let b = 0; b < kw; b++) {
        store<i32>(d, c * ps + a * Wp + b);
        d += 4;
      }
}

/**
 * y (N, G·rows, Ho, Wo) = conv of x (N, G·cols, H, W) with packed weights. Threads split (image,
 * group, 4-row block) tasks; each task fills a private scratch of 4 rows × ceil8(Ho·Wp) and copies
 * the valid columns out, adding the bias (bias = 0: none). With padding, each thread pads the
 * image group it works on into its own scratch (planes of stride ps, width Wp) just before use, so
 * the padded copy is still in L2 when the tiles read it; otherwise x is read in place (ps = H·W).
 */
export function convForward(x: usize, H: i32, W: i32, pad: i32, top: i32, left: i32, Hp: i32, ps: i32, Wp: i32,
  wpk: usize, offs: usize, y: usize, bias: usize, scratch: usize, N: i32, G: i32, cols: i32, rows: i32, taps: i32,
  Ho: i32, Wo: i32, chunk: i32, tid: i32, nt: i32): void {
  const rb = (rows + 3) >> 2;
  const K = cols * taps;
  const L = Ho * Wp;
  const Lr = (L + 7) & ~7;
  const mine = scratch + <usize>tid * (<usize>(4 * Lr + (pad ? cols * ps : 0)) << 2);
  const tile = mine;
  const padded = mine + (<usize>(4 * Lr) << 2);
  let padOf = -1;
  const rowBytes = <usize>Lr << 2;
  const total = N * G * rb;
  const Co = G * rows;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const n = task / (G * rb), g = (task / rb) % G, r0 = (task % rb) << 2;
    let xg = x + (<usize>((n * G + g) * cols * ps) << 2);
    if (pad) {
      const ng = n * G + g;
      if (ng != padOf) {
        for (let c = 0; c < cols; c++)
          padPlane(x + (<usize>((ng * cols + c) * H * W) << 2), padded + (<usize>(c * ps) << 2), H, W, Hp, Wp, top, left, ps);
        padOf = ng;
      }
      xg = padded;
    }
    const wg = wpk + (<usize>((g * rb + (r0 >> 2)) * K) << 4);
    // K is walked in chunks, all tiles per chunk, so a chunk's input planes stay in L1 across tiles.
    // Each output still sums k = 0 … K−1 in order: chunking never changes a result.
    for (let k0 = 0; k0 < K; k0 += chunk) {
      const k1 = min(K, k0 + chunk);
      for (let s = 0; s < Lr; s += 8) {
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
    const nr = min(4, rows - r0);
    for (let j = 0; j < nr; j++) {
      const o = g * rows + r0 + j;
      const bv: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
      const bvec = f32x4.splat(bv);
      const src = tile + <usize>j * rowBytes;
      const dst = y + (<usize>((n * Co + o) * Ho * Wo) << 2);
      for (let p = 0; p < Ho; p++) {
        const sr = src + (<usize>(p * Wp) << 2), dr = dst + (<usize>(p * Wo) << 2);
        let q = 0;
        for (; q + 4 <= Wo; q += 4) v128.store(dr + (<usize>q << 2), f32x4.add(v128.load(sr + (<usize>q << 2)), bvec));
        for (; q < Wo; q++) store<f32>(dr + (<usize>q << 2), load<f32>(sr + (<usize>q << 2)) + bv);
      }
    }
  }
}

/**
 * dw (G·rows, cols, kh, kw) = Σ_n Σ_s dyp[n, o, s] · xp[n, c, s + offset(tap)]: dy embedded in
 * the padded width Wp with zero columns, so every tap is a dot product of two contiguous runs of
 * L4 = ceil4(Ho·Wp) floats. A 4-row × 2-column register tile (4 dy runs, 2 shifted x runs, 8
 * accumulators); images outermost so one image's planes stay in L2 while all columns pass.
 * Threads split 4-row blocks; each dw element sums n, then s, in a fixed order.
 */
export function convGradFilter(xp: usize, xps: i32, dyp: usize, dyps: i32, dw: usize, N: i32, G: i32,
  cols: i32, rows: i32, kh: i32, kw: i32, Wp: i32, L4: i32, tid: i32, nt: i32): void {
  const taps = kh * kw;
  const K = cols * taps;
  const rb = (rows + 3) >> 2;
  const total = G * rb;
  const runBytes = <usize>L4 << 2;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const g = task / rb, r0 = (task % rb) << 2;
    const nr = min(4, rows - r0);
    const dwr = dw + (<usize>((g * rows + r0) * K) << 2);
    memory.fill(dwr, 0, <usize>(nr * K) << 2);
    for (let n = 0; n < N; n++) {
      // Rows past `rows` repeat the last one: computed, never stored.
      const d0 = dyp + (<usize>((n * G * rows + g * rows + r0) * dyps) << 2);
      const d1 = dyp + (<usize>((n * G * rows + g * rows + r0 + min(1, nr - 1)) * dyps) << 2);
      const d2 = dyp + (<usize>((n * G * rows + g * rows + r0 + min(2, nr - 1)) * dyps) << 2);
      const d3 = dyp + (<usize>((n * G * rows + g * rows + r0 + min(3, nr - 1)) * dyps) << 2);
      const xg = xp + (<usize>((n * G + g) * cols * xps) << 2);
      for (let j0 = 0; j0 < K; j0 += 2) {
        const j1 = min(j0 + 1, K - 1);
        const c0 = j0 / taps, t0 = j0 % taps, c1 = j1 / taps, t1 = j1 % taps;
        const px0 = xg + (<usize>(c0 * xps + (t0 / kw) * Wp + t0 % kw) << 2);
        const px1 = xg + (<usize>(c1 * xps + (t1 / kw) * Wp + t1 % kw) << 2);
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
        addTo(dwr, j0, hsum(a00)); if (two) addTo(dwr, j1, hsum(a01));
        if (nr > 1) { addTo(dwr, K + j0, hsum(a10)); if (two) addTo(dwr, K + j1, hsum(a11)); }
        if (nr > 2) { addTo(dwr, 2 * K + j0, hsum(a20)); if (two) addTo(dwr, 2 * K + j1, hsum(a21)); }
        if (nr > 3) { addTo(dwr, 3 * K + j0, hsum(a30)); if (two) addTo(dwr, 3 * K + j1, hsum(a31)); }
      }
    }
  }
}

@inline
function addTo(p: usize, i: i32, v: f32): void {
  const q = p + (<usize>i << 2);
  store<f32>(q, load<f32>(q) + v);
}

@inline
function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
