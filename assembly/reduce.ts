import { firstTask, nextTask } from './common';

// fn: sum 0, mean 1, sumSquares 2, max 3

/*
 * x has shape (d0..d3); r_i = 1 marks a reduced axis. Work is split over output rows (the kept
 * combinations of axes 0–2), each owned by one thread, and every output sums its reduced indices
 * in ascending order, so results do not depend on the thread count. Sums accumulate in f64
 * (f64x2 lanes), like the float64 reference. When the last axis is kept, a whole output row
 * accumulates at once from contiguous input rows (reducing over channels walks rows, not
 * strided single floats); `acc` is each thread's scratch of d3 doubles for that.
 */
export function reduce(fn: i32, x: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  r0: i32, r1: i32, r2: i32, r3: i32, acc: usize, tid: i32, nt: i32): void {
  const o0 = r0 ? 1 : d0, o1 = r1 ? 1 : d1, o2 = r2 ? 1 : d2;
  const e0 = r0 ? d0 : 1, e1 = r1 ? d1 : 1, e2 = r2 ? d2 : 1;
  const s2 = d3, s1 = d2 * d3, s0 = d1 * d2 * d3;
  const rows = o0 * o1 * o2;
  const count = <f64>(e0 * e1 * e2 * (r3 ? d3 : 1));
  const mine = acc + (<usize>(tid * d3) << 3);
  for (let j = firstTask(rows, nt); j < rows; j = nextTask(j, rows)) {
    const j2 = j % o2, j1 = (j / o2) % o1, j0 = j / (o2 * o1);
    const base = j0 * s0 + j1 * s1 + j2 * s2;
    if (r3) {
      // One output: every reduced row sums into it.
      let sum = f64x2.splat(0), mx = f32x4.splat(-Infinity);
      for (let a = 0; a < e0; a++)
        for (let b = 0; b < e1; b++)
          for (let c = 0; c < e2; c++) {
            const row = x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2);
            if (fn == 3) mx = maxRow(row, d3, mx);
            else sum = sumRow(row, d3, fn == 2, sum);
          }
      const out = y + (<usize>j << 2);
      if (fn == 3) {
        store<f32>(out, max(max(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3))));
      } else {
        const total = f64x2.extract_lane(sum, 0) + f64x2.extract_lane(sum, 1);
        store<f32>(out, <f32>(fn == 1 ? total / count : total));
      }
      continue;
    }
    // A row of d3 outputs: reduced rows add into it element by element.
    for (let q = 0; q < d3; q++) store<f64>(mine + (<usize>q << 3), fn == 3 ? -Infinity : 0);
    for (let a = 0; a < e0; a++)
      for (let b = 0; b < e1; b++)
        for (let c = 0; c < e2; c++) {
          const row = x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2);
          addRow(row, mine, d3, fn);
        }
    const out = y + (<usize>(j * d3) << 2);
    for (let q = 0; q < d3; q++) {
      const v = load<f64>(mine + (<usize>q << 3));
      store<f32>(out + (<usize>q << 2), <f32>(fn == 1 ? v / count : v));
    }
  }
}

/** Adds a row of n floats (squared when `squares`) to two f64 lanes. */
function sumRow(row: usize, n: i32, squares: bool, sum: v128): v128 {
  let s0 = sum, s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(row + (<usize>i << 2));
    let lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3));
    if (squares) { lo = f64x2.mul(lo, lo); hi = f64x2.mul(hi, hi); }
    s0 = f64x2.add(s0, lo);
    s1 = f64x2.add(s1, hi);
  }
  s0 = f64x2.add(s0, s1);
  for (; i < n; i++) {
    const v = <f64>load<f32>(row + (<usize>i << 2));
    s0 = f64x2.replace_lane(s0, 0, f64x2.extract_lane(s0, 0) + (squares ? v * v : v));
  }
  return s0;
}

function maxRow(row: usize, n: i32, mx: v128): v128 {
  let m = mx;
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(row + (<usize>i << 2)));
  for (; i < n; i++) m = f32x4.max(m, v128.load32_splat(row + (<usize>i << 2)));
  return m;
}

/** acc[q] += row[q] (squared for sumSquares, max for max), q < n, in f64. */
function addRow(row: usize, acc: usize, n: i32, fn: i32): void {
  let q = 0;
  if (fn != 3) {
    for (; q + 2 <= n; q += 2) {
      const p = acc + (<usize>q << 3);
      let v = f64x2.promote_low_f32x4(v128.load64_zero(row + (<usize>q << 2)));
      if (fn == 2) v = f64x2.mul(v, v);
      v128.store(p, f64x2.add(v128.load(p), v));
    }
  }
  for (; q < n; q++) {
    const p = acc + (<usize>q << 3);
    const v = <f64>load<f32>(row + (<usize>q << 2));
    const a = load<f64>(p);
    store<f64>(p, fn == 3 ? (v > a ? v : a) : a + (fn == 2 ? v * v : v));
  }
}
