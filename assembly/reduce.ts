import { firstTask, nextTask } from './common';

// fn: sum 0, mean 1, sumSquares 2, max 3

/**
 * x has shape (d0..d3); r_i = 1 marks a reduced axis. Each thread owns whole outputs, so the
 * summation order (and the result) does not depend on the thread count. Sums accumulate in f64.
 */
export function reduce(fn: i32, x: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32,
  r0: i32, r1: i32, r2: i32, r3: i32, tid: i32, nt: i32): void {
  const o0 = r0 ? 1 : d0, o1 = r1 ? 1 : d1, o2 = r2 ? 1 : d2, o3 = r3 ? 1 : d3;
  const e0 = r0 ? d0 : 1, e1 = r1 ? d1 : 1, e2 = r2 ? d2 : 1, e3 = r3 ? d3 : 1;
  const s2 = d3, s1 = d2 * d3, s0 = d1 * d2 * d3;
  const total = o0 * o1 * o2 * o3;
  const count = <f64>(e0 * e1 * e2 * e3);
  for (let j = firstTask(total, nt); j < total; j = nextTask(j, total)) {
    const j3 = j % o3, j2 = (j / o3) % o2, j1 = (j / (o3 * o2)) % o1, j0 = j / (o3 * o2 * o1);
    const base = j0 * s0 + j1 * s1 + j2 * s2 + j3;
    let acc: f64 = 0;
    let mx: f32 = -Infinity;
    for (let a = 0; a < e0; a++)
      for (let b = 0; b < e1; b++)
        for (let c = 0; c < e2; c++) {
          const row = x + (<usize>(base + a * s0 + b * s1 + c * s2) << 2);
          if (fn == 3) {
            for (let d = 0; d < e3; d++) { const v = load<f32>(row + (<usize>d << 2)); if (v > mx) mx = v; }
          } else if (fn == 2) {
            for (let d = 0; d < e3; d++) { const v = <f64>load<f32>(row + (<usize>d << 2)); acc += v * v; }
          } else {
            for (let d = 0; d < e3; d++) acc += <f64>load<f32>(row + (<usize>d << 2));
          }
        }
    store<f32>(y + (<usize>j << 2), fn == 3 ? mx : fn == 1 ? <f32>(acc / count) : <f32>acc);
  }
}
