import { firstTask, nextTask } from './common';
import { CHUNK, lanes, partialLanes, rowOffset, storePartial } from './util/elementwise';

// y = cond ≠ 0 ? a : b with numpy broadcasting of all three, over the six collapsed dims of
// src/ops/util/broadcast.ts (strides in elements, 0 along broadcast axes). A NaN condition counts
// as true, as in the reference.

@inline function pick(c: v128, a: v128, b: v128): v128 {
  return v128.bitselect(a, b, f32x4.ne(c, f32x4.splat(0.0)));
}

export function where(c: usize, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sc0: i32, sc1: i32, sc2: i32, sc3: i32, sc4: i32, sc5: i32, sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32,
  sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, tid: i32, nt: i32): void {
  const pieces = (d5 + CHUNK - 1) / CHUNK;
  const tasks = d0 * d1 * d2 * d3 * d4 * pieces;
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const r = t / pieces, j0 = (t % pieces) * CHUNK;
    const end = min(j0 + CHUNK, d5) - j0;
    const pc = c + (<usize>(rowOffset(r, d1, d2, d3, d4, sc0, sc1, sc2, sc3, sc4) + j0 * sc5) << 2);
    const pa = a + (<usize>(rowOffset(r, d1, d2, d3, d4, sa0, sa1, sa2, sa3, sa4) + j0 * sa5) << 2);
    const pb = b + (<usize>(rowOffset(r, d1, d2, d3, d4, sb0, sb1, sb2, sb3, sb4) + j0 * sb5) << 2);
    const py = y + (<usize>(r * d5 + j0) << 2);
    const cv = v128.load32_splat(pc), av = v128.load32_splat(pa), bv = v128.load32_splat(pb);
    let j = 0;
    for (; j + 4 <= end; j += 4)
      v128.store(py + (<usize>j << 2), pick(lanes(pc, sc5, j, cv), lanes(pa, sa5, j, av), lanes(pb, sb5, j, bv)));
    const rem = end - j;
    if (rem > 0)
      storePartial(py + (<usize>j << 2), pick(partialLanes(pc, sc5, j, rem), partialLanes(pa, sa5, j, rem), partialLanes(pb, sb5, j, rem)), rem);
  }
}
