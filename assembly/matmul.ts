import { firstTask, nextTask } from './common';

/*
 * y[t] (M×N) = a[t] · b[t] as a packed GEMM. b is packed once per call into panels of 8 columns,
 * [t][panel][k][8], so the micro-kernel streams it contiguously whatever N (unpacked rows of a
 * power-of-two N alias in the cache) and whether b is transposed; only when a has a few rows,
 * which reuse b too little to repay the packing pass, is a row-major b read in place. Each task (batch, MC-row block)
 * packs its rows of a, one K chunk at a time, into a per-thread block of 4-row slivers [i][k][4],
 * which stays in L2 while every panel passes; a panel's K chunk (KC·32 bytes) stays in L1 while
 * all slivers of the block pass over it. The register tile is 4 rows × 8 columns, as in conv2d.ts.
 * Every output sums k = 0 … K−1 in order (chunks reload the partial sums), so neither the chunk
 * sizes nor the thread count change a result.
 */

/**
 * dst [t][panel][k][8] from b(t, k, n) at b + t·bBatch + k·sbk + n·sbn; columns past N are zero.
 * Threads split (batch, panel) tasks.
 */
export function matmulPackB(b: usize, dst: usize, batch: i32, K: i32, N: i32, sbk: i32, sbn: i32, bBatch: i32,
  tid: i32, nt: i32): void {
  const panels = (N + 7) >> 3;
  const total = batch * panels;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const t = task / panels, n0 = (task % panels) << 3;
    const cols = min(8, N - n0);
    const src = b + (<usize>(t * bBatch) << 2) + (<usize>(n0 * sbn) << 2);
    let d = dst + (<usize>task * <usize>K << 5);
    if (cols == 8 && sbn == 1) {
      const step = <usize>sbk << 2;
      let s = src;
      for (let k = 0; k < K; k++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += step;
        d += 32;
      }
      continue;
    }
    // Transposed b: each column is a contiguous run of K floats, read as 8 streams.
    for (let c = 0; c < 8; c++) {
      const dc = d + (<usize>c << 2);
      if (c >= cols) {
        for (let k = 0; k < K; k++) store<f32>(dc + (<usize>k << 5), 0);
        continue;
      }
      const sc = src + (<usize>(c * sbn) << 2);
      for (let k = 0; k < K; k++) store<f32>(dc + (<usize>k << 5), load<f32>(sc + (<usize>(k * sbk) << 2)));
    }
  }
}

/**
 * Packs rows [0, rows) × k [k0, k0 + kc) of a (a(m, k) at at + m·sam + k·sak) as slivers
 * [i][k][4]; rows past `rows` up to the sliver end are zero.
 */
function packA(at: usize, dst: usize, rows: i32, slivers: i32, k0: i32, kc: i32, sam: i32, sak: i32): void {
  for (let i = 0; i < slivers; i++) {
    const d = dst + (<usize>(i * kc) << 4);
    const r0 = i << 2;
    if (sam == 1 && r0 + 4 <= rows) {
      // Transposed a: a sliver's four rows are adjacent floats at every k.
      let s = at + (<usize>(r0 + k0 * sak) << 2);
      const step = <usize>sak << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(d + (<usize>k << 4), v128.load(s));
        s += step;
      }
      continue;
    }
    if (sak == 1 && r0 + 4 <= rows) {
      // Row-major a: 4×4 blocks loaded row by row and transposed in registers.
      const s0 = at + (<usize>(r0 * sam + k0) << 2);
      const rs = <usize>sam << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(s0 + o), x1 = v128.load(s0 + rs + o);
        const x2 = v128.load(s0 + 2 * rs + o), x3 = v128.load(s0 + 3 * rs + o);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        const pd = d + (<usize>k << 4);
        v128.store(pd, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(pd, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(pd, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(pd, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2, pd = d + (<usize>k << 4);
        store<f32>(pd, load<f32>(s0 + o));
        store<f32>(pd, load<f32>(s0 + rs + o), 4);
        store<f32>(pd, load<f32>(s0 + 2 * rs + o), 8);
        store<f32>(pd, load<f32>(s0 + 3 * rs + o), 12);
      }
      continue;
    }
    for (let j = 0; j < 4; j++) {
      const dj = d + (<usize>j << 2);
      const r = r0 + j;
      if (r >= rows) {
        for (let k = 0; k < kc; k++) store<f32>(dj + (<usize>k << 4), 0);
        continue;
      }
      const s = at + (<usize>(r * sam) << 2) + (<usize>(k0 * sak) << 2);
      for (let k = 0; k < kc; k++) store<f32>(dj + (<usize>k << 4), load<f32>(s + (<usize>(k * sak) << 2)));
    }
  }
}

/**
 * d (4 rows of stride ds bytes × 8) (+)= sliver pa · panel chunk pb over kc steps. A function of
 * its own so V8 allocates its registers alone: 8 accumulators, 2 b vectors, the 4 splats it
 * hoists and one temporary fill the 15 usable xmm registers; a wider tile or unrolling spills.
 */
function micro(pa: usize, pb: usize, bk: usize, kc: i32, d: usize, ds: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (accumulate) {
    c00 = v128.load(d); c01 = v128.load(d, 16);
    c10 = v128.load(d + ds); c11 = v128.load(d + ds, 16);
    c20 = v128.load(d + 2 * ds); c21 = v128.load(d + 2 * ds, 16);
    c30 = v128.load(d + 3 * ds); c31 = v128.load(d + 3 * ds, 16);
  }
  const end = pa + (<usize>kc << 4);
  while (pa < end) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let s = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(s, b0)); c01 = f32x4.add(c01, f32x4.mul(s, b1));
    s = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(s, b0)); c11 = f32x4.add(c11, f32x4.mul(s, b1));
    s = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(s, b0)); c21 = f32x4.add(c21, f32x4.mul(s, b1));
    s = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(s, b0)); c31 = f32x4.add(c31, f32x4.mul(s, b1));
    pa += 16; pb += bk;
  }
  v128.store(d, c00); v128.store(d, c01, 16);
  v128.store(d + ds, c10); v128.store(d + ds, c11, 16);
  v128.store(d + 2 * ds, c20); v128.store(d + 2 * ds, c21, 16);
  v128.store(d + 3 * ds, c30); v128.store(d + 3 * ds, c31, 16);
}

/** Floats of per-thread scratch matmul needs (the TypeScript side allocates threads × this). */
@inline
function scratchFloats(MC: i32, KC: i32, N: i32): i32 {
  return MC * KC + MC * 8 + 4 * (((N + 7) >> 3) << 3);
}

/**
 * a(t, m, k) at a + t·aBatch + m·sam + k·sak (transposeA is just strides). b's 8-column panel j
 * starts at b + t·bBatch + j·bPanel (bytes) and steps bk bytes per k: from matmulPackB (bPanel =
 * 32·K, bk = 32) or, for a few rows of a, a row-major b read in place (bPanel = 32, bk = 4·N; the
 * last panel then over-reads past each row into lanes that are never stored). MC (a multiple of 4)
 * rows per task, KC k steps per chunk. Tiles that overhang M or N are accumulated in the thread's edge buffers
 * (they persist across K chunks) and copied out at the end of the task.
 */
export function matmul(a: usize, pb: usize, y: usize, batch: i32, M: i32, N: i32, K: i32,
  aBatch: i32, sam: i32, sak: i32, bBatch: i32, bPanel: i32, bk: i32, MC: i32, KC: i32, scratch: usize,
  tid: i32, nt: i32): void {
  const panels = (N + 7) >> 3, fullPanels = N >> 3, Npad = panels << 3;
  const mBlocks = (M + MC - 1) / MC;
  const total = batch * mBlocks;
  const sa = scratch + (<usize>tid * <usize>scratchFloats(MC, KC, N) << 2);
  const ep = sa + (<usize>(MC * KC) << 2); // overhanging panel: MC rows × 8
  const er = ep + (<usize>(MC * 8) << 2); // overhanging sliver's rows: 4 × Npad
  const yRow = <usize>N << 2, erRow = <usize>Npad << 2;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const t = task / mBlocks, m0 = (task % mBlocks) * MC;
    const rows = min(MC, M - m0);
    const slivers = (rows + 3) >> 2, fullSlivers = rows >> 2;
    const at = a + (<usize>(t * aBatch) << 2) + (<usize>(m0 * sam) << 2);
    const bt = pb + <usize>t * <usize>bBatch;
    const yt = y + (<usize>(t * M + m0) * yRow);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      packA(at, sa, rows, slivers, k0, kc, sam, sak);
      const more = k0 > 0;
      for (let j = 0; j < panels; j++) {
        const pbj = bt + <usize>j * <usize>bPanel + <usize>k0 * <usize>bk;
        for (let i = 0; i < slivers; i++) {
          let d: usize, ds: usize;
          if (j < fullPanels && i < fullSlivers) { d = yt + <usize>(i << 2) * yRow + (<usize>j << 5); ds = yRow; }
          else if (j == fullPanels) { d = ep + (<usize>i << 7); ds = 32; }
          else { d = er + (<usize>j << 5); ds = erRow; }
          micro(sa + (<usize>(i * kc) << 4), pbj, bk, kc, d, ds, more);
        }
      }
    }
    const c0 = fullPanels << 3;
    if (c0 < N)
      for (let r = 0; r < rows; r++)
        for (let c = c0; c < N; c++)
          store<f32>(yt + <usize>r * yRow + (<usize>c << 2), load<f32>(ep + (<usize>(r * 8 + c - c0) << 2)));
    for (let r = fullSlivers << 2; r < rows; r++) {
      const src = er + <usize>(r & 3) * erRow, dst = yt + <usize>r * yRow;
      for (let c = 0; c < c0; c += 4) v128.store(dst + (<usize>c << 2), v128.load(src + (<usize>c << 2)));
    }
  }
}
