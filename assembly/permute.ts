import { firstTask, nextTask } from './common';

/**
 * Edge of a transposing tile: 32 × 32 floats are 4 KiB on each side, so the strided reads of a
 * tile stay in L1 while its output rows are written.
 */
const T: i32 = 32;

/**
 * y = a permutation of x, walked as 4 outer axes (sizes n0…n3, input strides xs, output strides ys)
 * around a plane of R rows × C columns, C being the output's last axis (output stride 1). When
 * xsC = 1 each output row is a contiguous run of x (row copies over outer × R tasks); otherwise
 * xsR = 1 and the plane is transposed in T × T tiles (outer × tiles tasks) with 4 × 4 SIMD blocks.
 */
export function permute(x: usize, y: usize, n0: i32, n1: i32, n2: i32, n3: i32, R: i32, C: i32,
  xs0: i32, xs1: i32, xs2: i32, xs3: i32, xsR: i32, xsC: i32, ys0: i32, ys1: i32, ys2: i32, ys3: i32, ysR: i32,
  tid: i32, nt: i32): void {
  const outer = n0 * n1 * n2 * n3;
  if (xsC == 1) {
    const rows = outer * R;
    for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
      let q = t;
      const r = q % R; q /= R;
      const i3 = q % n3; q /= n3;
      const i2 = q % n2; q /= n2;
      const i1 = q % n1; const i0 = q / n1;
      const xo = i0 * xs0 + i1 * xs1 + i2 * xs2 + i3 * xs3 + r * xsR;
      const yo = i0 * ys0 + i1 * ys1 + i2 * ys2 + i3 * ys3 + r * ysR;
      memory.copy(y + (<usize>yo << 2), x + (<usize>xo << 2), <usize>C << 2);
    }
    return;
  }
  const tr = (R + T - 1) / T, tc = (C + T - 1) / T;
  const tasks = outer * tr * tc;
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    let q = t;
    const bc = q % tc; q /= tc;
    const br = q % tr; q /= tr;
    const i3 = q % n3; q /= n3;
    const i2 = q % n2; q /= n2;
    const i1 = q % n1; const i0 = q / n1;
    const xo = i0 * xs0 + i1 * xs1 + i2 * xs2 + i3 * xs3;
    const yo = i0 * ys0 + i1 * ys1 + i2 * ys2 + i3 * ys3;
    const r0 = br * T, c0 = bc * T;
    transposeTile(x + (<usize>xo << 2), y + (<usize>yo << 2), r0, min(R, r0 + T), c0, min(C, c0 + T), xsC, ysR);
  }
}

/** y[r·ysR + c] = x[r + c·xsC] for r0 ≤ r < r1, c0 ≤ c < c1. */
function transposeTile(xb: usize, yb: usize, r0: i32, r1: i32, c0: i32, c1: i32, xsC: i32, ysR: i32): void {
  const r4 = r0 + ((r1 - r0) & ~3), c4 = c0 + ((c1 - c0) & ~3);
  const xc = <usize>xsC << 2, yr = <usize>ysR << 2;
  for (let r = r0; r < r4; r += 4) {
    for (let c = c0; c < c4; c += 4) {
      // Four input columns, each 4 consecutive rows; transposed into four output rows.
      const p = xb + (<usize>(r + c * xsC) << 2);
      const a0 = v128.load(p), a1 = v128.load(p + xc), a2 = v128.load(p + 2 * xc), a3 = v128.load(p + 3 * xc);
      const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(a2, a3, 0, 4, 1, 5), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
      const o = yb + (<usize>(r * ysR + c) << 2);
      v128.store(o, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
      v128.store(o + yr, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
      v128.store(o + 2 * yr, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
      v128.store(o + 3 * yr, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
    }
    for (let rr = r; rr < r + 4; rr++)
      for (let c = c4; c < c1; c++) store<f32>(yb + (<usize>(rr * ysR + c) << 2), load<f32>(xb + (<usize>(rr + c * xsC) << 2)));
  }
  for (let r = r4; r < r1; r++)
    for (let c = c0; c < c1; c++) store<f32>(yb + (<usize>(r * ysR + c) << 2), load<f32>(xb + (<usize>(r + c * xsC) << 2)));
}
