import { firstTask, nextTask } from './common';

/** dst (rows × cols) = srcᵀ where src is (cols × rows): packs a transposed b so the kernel streams rows. */
export function transpose2d(src: usize, dst: usize, batch: i32, rows: i32, cols: i32, tid: i32, nt: i32): void {
  const total = batch * rows;
  for (let t = firstTask(total, nt); t < total; t = nextTask(t, total)) {
    const bt = t / rows, r = t % rows;
    const s = src + (<usize>(bt * rows * cols + r) << 2);
    const d = dst + (<usize>(t * cols) << 2);
    for (let c = 0; c < cols; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>(c * rows) << 2)));
  }
}

/**
 * y[t] (M×N) = a[t] · b[t]. a(m,k) lives at a + t·aBatch + m·sam + k·sak (so transposeA is just strides);
 * b is row-major K×N (a transposed b is packed first). A 4×8 register tile: four rows of a, two
 * f32x4 of b, eight accumulators. Threads split (batch, 4-row block) tiles.
 */
export function matmul(a: usize, b: usize, y: usize, batch: i32, M: i32, N: i32, K: i32,
  aBatch: i32, sam: i32, sak: i32, bBatch: i32, tid: i32, nt: i32): void {
  const rowBlocks = (M + 3) >> 2;
  const total = batch * rowBlocks;
  const ak = <usize>sak << 2;
  const bk = <usize>N << 2;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const t = task / rowBlocks, m0 = (task % rowBlocks) << 2;
    const rows = min(4, M - m0);
    // Rows past M repeat the last row: computed, never stored, so no branch in the loop.
    const a0 = a + (<usize>(t * aBatch + m0 * sam) << 2);
    const a1 = a + (<usize>(t * aBatch + (m0 + min(1, rows - 1)) * sam) << 2);
    const a2 = a + (<usize>(t * aBatch + (m0 + min(2, rows - 1)) * sam) << 2);
    const a3 = a + (<usize>(t * aBatch + (m0 + min(3, rows - 1)) * sam) << 2);
    const bt = b + (<usize>(t * bBatch) << 2);
    const yt = y + (<usize>(t * M + m0) * <usize>N << 2);
    let j = 0;
    for (; j + 8 <= N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pb = bt + (<usize>j << 2);
      let ko: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb), b1 = v128.load(pb, 16);
        let s = v128.load32_splat(a0 + ko);
        c00 = f32x4.add(c00, f32x4.mul(s, b0)); c01 = f32x4.add(c01, f32x4.mul(s, b1));
        s = v128.load32_splat(a1 + ko);
        c10 = f32x4.add(c10, f32x4.mul(s, b0)); c11 = f32x4.add(c11, f32x4.mul(s, b1));
        s = v128.load32_splat(a2 + ko);
        c20 = f32x4.add(c20, f32x4.mul(s, b0)); c21 = f32x4.add(c21, f32x4.mul(s, b1));
        s = v128.load32_splat(a3 + ko);
        c30 = f32x4.add(c30, f32x4.mul(s, b0)); c31 = f32x4.add(c31, f32x4.mul(s, b1));
        pb += bk; ko += ak;
      }
      const py = yt + (<usize>j << 2);
      v128.store(py, c00); v128.store(py, c01, 16);
      if (rows > 1) { v128.store(py + bk, c10); v128.store(py + bk, c11, 16); }
      if (rows > 2) { v128.store(py + 2 * bk, c20); v128.store(py + 2 * bk, c21, 16); }
      if (rows > 3) { v128.store(py + 3 * bk, c30); v128.store(py + 3 * bk, c31, 16); }
    }
    for (; j + 4 <= N; j += 4) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
      let pb = bt + (<usize>j << 2);
      let ko: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0 + ko), b0));
        c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a1 + ko), b0));
        c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(a2 + ko), b0));
        c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(a3 + ko), b0));
        pb += bk; ko += ak;
      }
      const py = yt + (<usize>j << 2);
      v128.store(py, c0);
      if (rows > 1) v128.store(py + bk, c1);
      if (rows > 2) v128.store(py + 2 * bk, c2);
      if (rows > 3) v128.store(py + 3 * bk, c3);
    }
    for (; j < N; j++) {
      for (let r = 0; r < rows; r++) {
        const ar = a + (<usize>(t * aBatch + (m0 + r) * sam) << 2);
        let acc: f32 = 0;
        for (let k = 0; k < K; k++)
          acc += load<f32>(ar + (<usize>(k * sak) << 2)) * load<f32>(bt + (<usize>(k * N + j) << 2));
        store<f32>(yt + (<usize>(r * N + j) << 2), acc);
      }
    }
  }
}
