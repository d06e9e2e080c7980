import { firstTask, nextTask } from './common';

/*
 * Triangular convolution solves (x = F T⁻¹ F y per channel group, and the transpose), raster
 * order on one thread: work-optimal, and every pixel's arithmetic is the same in any valid order,
 * so 'wavefront' (anti-diagonals) gives bit-identical results.
 *
 * SIMD over batch lanes: a task gathers 4 images of one group into a tile [c][hh][ww][lane]
 * (the flip is applied while gathering, so the solve itself is always the top-left case) with a
 * (k−1)-wide zero border on every side, so no tap needs a bounds check. Per pixel, phase 1 takes
 * the non-centre taps for 4 channels at once (each x load feeds 4 multiply-adds), phase 2 the
 * small triangular centre system. Threads split (batch block of 4, group) tasks.
 */

/** Bytes of private scratch one thread needs. */
export function solveScratchBytes(Cg: i32, H: i32, W: i32, k: i32): i32 {
  const cb = (Cg + 3) >> 2;
  const kp = cb * Cg * (k * k - 1) * 16;
  const tile = Cg * (H + 2 * k - 2) * (W + 2 * k - 2) * 16;
  const offs = Cg * (k * k - 1) * 4;
  return ((kp + Cg * Cg * 4 + offs + 15) & ~15) + tile;
}

export function solve(y: usize, K: usize, x: usize, flips: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32,
  Cg: i32, k: i32, unitDiag: i32, wavefront: i32, transpose: i32, tid: i32, nt: i32): void {
  const G = C / Cg;
  // Fewer than 4 images (sampling) would leave batch lanes empty: then vectorise over 4 output
  // channels instead, one image per task, one float per pixel slot. Chosen from N and Cg alone,
  // never from the thread count.
  const chan = N < 4 && Cg >= 4;
  const lane: i32 = chan ? 4 : 16;
  const perBlock = chan ? 1 : 4;
  const nb = (N + perBlock - 1) / perBlock;
  const total = nb * G;
  const cbs = (Cg + 3) >> 2;
  const kk = k * k;
  const ntap = kk - 1;
  const Ht = H + 2 * k - 2, Wt = W + 2 * k - 2;
  const planeT = <usize>(Ht * Wt * lane);
  const mine = scratch + <usize>tid * <usize>solveScratchBytes(Cg, H, W, k);
  const kp = mine;
  const centre = kp + (<usize>(cbs * Cg * ntap) << 4);
  const offt = centre + (<usize>(Cg * Cg) << 2);
  const tile = (offt + (<usize>(Cg * ntap) << 2) + 15) & ~15;
  // Byte offset of every off-centre (input channel, tap) from a pixel's slot: the solve reads up-left,
  // the transpose down-right. Same for every task, so built once.
  {
    let d = offt;
    for (let i = 0; i < Cg; i++)
      for (let t = 1; t < kk; t++) {
        const o = ((t / k) * Wt + t % k) * lane;
        store<i32>(d, i * <i32>planeT + (transpose ? o : -o));
        d += 4;
      }
  }
  const taps = <usize>((k - 1) * lane); // tile offset of the first interior pixel column
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const n0 = (task / G) * perBlock, g = task % G;
    const lanes = min(perBlock, N - n0);
    const fl = load<i32>(flips + (<usize>g << 2));
    const fw = (fl & 1) != 0, fh = (fl & 2) != 0;
    // Packed off-centre weights [cb][i][tap][4]: lane j is channel cb·4 + j (zero past Cg).
    // Solve: weight of x[i] in row c is K[c, i, k−1−u, k−1−v]; transpose: K[i, c, k−1−u, k−1−v].
    let d = kp;
    for (let cb = 0; cb < cbs; cb++)
      for (let i = 0; i < Cg; i++)
        for (let t = 1; t < kk; t++) {
          const u = t / k, v = t % k;
          for (let j = 0; j < 4; j++) {
            const c = cb * 4 + j;
            let val: f32 = 0;
            if (c < Cg) {
              const row = transpose ? g * Cg + i : g * Cg + c, col = transpose ? c : i;
              val = load<f32>(K + (<usize>(((row * Cg + col) * k + k - 1 - u) * k + k - 1 - v) << 2));
            }
            store<f32>(d, val);
            d += 4;
          }
        }
    // centre[c][i] = K[g·Cg + c, i, k−1, k−1]
    for (let c = 0; c < Cg; c++)
      for (let i = 0; i < Cg; i++)
        store<f32>(centre + (<usize>(c * Cg + i) << 2), load<f32>(K + (<usize>(((g * Cg + c) * Cg + i) * kk + kk - 1) << 2)));

    memory.fill(tile, 0, <usize>Cg * planeT);
    for (let j = 0; j < lanes; j++)
      for (let c = 0; c < Cg; c++) {
        const src = y + (<usize>((n0 + j) * C + g * Cg + c) * <usize>(H * W) << 2);
        const tc = tile + <usize>c * planeT + (<usize>j << 2);
        for (let h = 0; h < H; h++) {
          const sr = src + (<usize>((fh ? H - 1 - h : h) * W) << 2);
          const tr = tc + <usize>((h + k - 1) * Wt * lane) + taps;
          for (let w = 0; w < W; w++) store<f32>(tr + <usize>(w * lane), load<f32>(sr + (<usize>(fw ? W - 1 - w : w) << 2)));
        }
      }

    const npix = H * W;
    for (let idx = 0; idx < npix; idx++) {
      // idx-th pixel of the order; the transpose walks it backwards.
      const m = transpose ? npix - 1 - idx : idx;
      let h: i32, w: i32;
      if (wavefront) {
        // Anti-diagonal dd holds pixels h + w = dd, h ascending from max(0, dd − W + 1).
        let dd = 0, before = 0;
        while (true) {
          const len = min(dd, H - 1) - max(0, dd - W + 1) + 1;
          if (m < before + len) break;
          before += len; dd++;
        }
        h = max(0, dd - W + 1) + (m - before);
        w = dd - h;
      } else {
        h = m / W; w = m % W;
      }
      const base = tile + <usize>((h + k - 1) * Wt * lane) + taps + <usize>(w * lane);
      if (chan) {
        if (k > 1) offCentreChannels(base, planeT, kp, offt, Cg * ntap, Cg);
        solvePixelScalar(base, planeT, centre, Cg, unitDiag, transpose);
        continue;
      }
      if (k > 1) offCentre(base, planeT, kp, offt, Cg * ntap, Cg);
      if (transpose) solvePixelT(base, planeT, centre, Cg, unitDiag);
      else solvePixel(base, planeT, centre, Cg, unitDiag);
    }

    for (let j = 0; j < lanes; j++)
      for (let c = 0; c < Cg; c++) {
        const dst = x + (<usize>((n0 + j) * C + g * Cg + c) * <usize>(H * W) << 2);
        const tc = tile + <usize>c * planeT + (<usize>j << 2);
        for (let h = 0; h < H; h++) {
          const dr = dst + (<usize>((fh ? H - 1 - h : h) * W) << 2);
          const tr = tc + <usize>((h + k - 1) * Wt * lane) + taps;
          for (let w = 0; w < W; w++) store<f32>(dr + (<usize>(fw ? W - 1 - w : w) << 2), load<f32>(tr + <usize>(w * lane)));
        }
      }
  }
}

/**
 * Subtracts the off-centre taps from the pixel's slots for 4 channels at a time: each x load feeds
 * four multiply-adds. One flat loop over (input channel, tap) with a table of offsets keeps the
 * loop short and its registers few (V8 hoists every load of a block).
 */
function offCentre(base: usize, planeT: usize, kp: usize, offt: usize, nk: i32, Cg: i32): void {
  const cbs = (Cg + 3) >> 2;
  for (let cb = 0; cb < cbs; cb++) {
    const c0 = cb << 2;
    const nc = min(4, Cg - c0);
    const p0 = base + <usize>c0 * planeT;
    const p1 = base + <usize>(c0 + min(1, nc - 1)) * planeT;
    const p2 = base + <usize>(c0 + min(2, nc - 1)) * planeT;
    const p3 = base + <usize>(c0 + min(3, nc - 1)) * planeT;
    let a0 = v128.load(p0), a1 = v128.load(p1), a2 = v128.load(p2), a3 = v128.load(p3);
    let pk = kp + (<usize>(cb * nk) << 4);
    let po = offt;
    const poEnd = offt + (<usize>nk << 2);
    while (po < poEnd) {
      const xv = v128.load(base + <usize>load<i32>(po));
      a0 = f32x4.sub(a0, f32x4.mul(v128.load32_splat(pk), xv));
      a1 = f32x4.sub(a1, f32x4.mul(v128.load32_splat(pk, 4), xv));
      a2 = f32x4.sub(a2, f32x4.mul(v128.load32_splat(pk, 8), xv));
      a3 = f32x4.sub(a3, f32x4.mul(v128.load32_splat(pk, 12), xv));
      pk += 16; po += 4;
    }
    // Stores in reverse so duplicated slots (past Cg) end with the real channel's value.
    v128.store(p3, a3); v128.store(p2, a2); v128.store(p1, a1); v128.store(p0, a0);
  }
}

function solvePixel(base: usize, planeT: usize, centre: usize, Cg: i32, unitDiag: i32): void {
  for (let c = 0; c < Cg; c++) {
    const pc = base + <usize>c * planeT;
    let r = v128.load(pc);
    const row = centre + (<usize>(c * Cg) << 2);
    for (let i = 0; i < c; i++)
      r = f32x4.sub(r, f32x4.mul(v128.load32_splat(row + (<usize>i << 2)), v128.load(base + <usize>i * planeT)));
    if (!unitDiag) r = f32x4.div(r, v128.load32_splat(row + (<usize>c << 2)));
    v128.store(pc, r);
  }
}

function solvePixelT(base: usize, planeT: usize, centre: usize, Cg: i32, unitDiag: i32): void {
  for (let c = Cg - 1; c >= 0; c--) {
    const pc = base + <usize>c * planeT;
    let r = v128.load(pc);
    for (let o = c + 1; o < Cg; o++)
      r = f32x4.sub(r, f32x4.mul(v128.load32_splat(centre + (<usize>(o * Cg + c) << 2)), v128.load(base + <usize>o * planeT)));
    if (!unitDiag) r = f32x4.div(r, v128.load32_splat(centre + (<usize>(c * Cg + c) << 2)));
    v128.store(pc, r);
  }
}

/** Off-centre sums for one image: lanes are 4 output channels, x is splatted from its pixel slot. */
function offCentreChannels(base: usize, planeT: usize, kp: usize, offt: usize, nk: i32, Cg: i32): void {
  const cbs = (Cg + 3) >> 2;
  for (let cb = 0; cb < cbs; cb++) {
    const c0 = cb << 2;
    const nc = min(4, Cg - c0);
    // Lanes past Cg read the last channel: their weights are zero and they are never stored.
    const p0 = base + <usize>c0 * planeT;
    const p1 = base + <usize>(c0 + min(1, nc - 1)) * planeT;
    const p2 = base + <usize>(c0 + min(2, nc - 1)) * planeT;
    const p3 = base + <usize>(c0 + min(3, nc - 1)) * planeT;
    let a = f32x4.splat(load<f32>(p0));
    a = f32x4.replace_lane(a, 1, load<f32>(p1));
    a = f32x4.replace_lane(a, 2, load<f32>(p2));
    a = f32x4.replace_lane(a, 3, load<f32>(p3));
    let pk = kp + (<usize>(cb * nk) << 4);
    let po = offt;
    const poEnd = offt + (<usize>nk << 2);
    while (po < poEnd) {
      a = f32x4.sub(a, f32x4.mul(v128.load(pk), v128.load32_splat(base + <usize>load<i32>(po))));
      pk += 16; po += 4;
    }
    store<f32>(p0, f32x4.extract_lane(a, 0));
    if (nc > 1) store<f32>(p1, f32x4.extract_lane(a, 1));
    if (nc > 2) store<f32>(p2, f32x4.extract_lane(a, 2));
    if (nc > 3) store<f32>(p3, f32x4.extract_lane(a, 3));
  }
}

/** The centre system of one pixel of one image: forward substitution (backward for the transpose). */
function solvePixelScalar(base: usize, planeT: usize, centre: usize, Cg: i32, unitDiag: i32, transpose: i32): void {
  for (let m = 0; m < Cg; m++) {
    const c = transpose ? Cg - 1 - m : m;
    const pc = base + <usize>c * planeT;
    let r = load<f32>(pc);
    if (transpose) {
      for (let o = c + 1; o < Cg; o++) r -= load<f32>(centre + (<usize>(o * Cg + c) << 2)) * load<f32>(base + <usize>o * planeT);
    } else {
      for (let i = 0; i < c; i++) r -= load<f32>(centre + (<usize>(c * Cg + i) << 2)) * load<f32>(base + <usize>i * planeT);
    }
    if (!unitDiag) r /= load<f32>(centre + (<usize>(c * Cg + c) << 2));
    store<f32>(pc, r);
  }
}
