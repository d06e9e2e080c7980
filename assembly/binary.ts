import { firstTask, nextTask } from './common';
import { Binary_add, Binary_sub, Binary_mul, Binary_div, Binary_max, Binary_min, Binary_eq, Binary_gt } from './generated/binary';
import { CHUNK, lanes, partialLanes, rowOffset, storePartial } from './util/elementwise';

// y = a ∘ b with numpy broadcasting for the function codes of src/ops/binary.ts, over the six
// collapsed dims of src/ops/util/broadcast.ts (strides in elements, 0 along broadcast axes). Tasks
// are pieces of rows, so long single rows (equal shapes) still split over threads. An unknown code traps.

@inline function f(fn: i32, a: v128, b: v128): v128 {
  switch (fn) {
    case Binary_add: return f32x4.add(a, b);
    case Binary_sub: return f32x4.sub(a, b);
    case Binary_mul: return f32x4.mul(a, b);
    case Binary_div: return f32x4.div(a, b);
    case Binary_max: return v128.bitselect(a, b, f32x4.gt(a, b));
    case Binary_min: return v128.bitselect(a, b, f32x4.lt(a, b));
    case Binary_eq: return v128.and(f32x4.eq(a, b), f32x4.splat(1.0));
    case Binary_gt: return v128.and(f32x4.gt(a, b), f32x4.splat(1.0));
    default: unreachable();
  }
  return a;
}

/** One code over every task (inlined into the run_* functions below). */
@inline function run(fn: i32, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  const pieces = (d5 + CHUNK - 1) / CHUNK;
  const tasks = d0 * d1 * d2 * d3 * d4 * pieces;
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const r = t / pieces, j0 = (t % pieces) * CHUNK;
    const end = min(j0 + CHUNK, d5) - j0;
    const pa = a + (<usize>(rowOffset(r, d1, d2, d3, d4, sa0, sa1, sa2, sa3, sa4) + j0 * sa5) << 2);
    const pb = b + (<usize>(rowOffset(r, d1, d2, d3, d4, sb0, sb1, sb2, sb3, sb4) + j0 * sb5) << 2);
    const py = y + (<usize>(r * d5 + j0) << 2);
    const av = v128.load32_splat(pa), bv = v128.load32_splat(pb);
    let j = 0;
    for (; j + 4 <= end; j += 4) v128.store(py + (<usize>j << 2), f(fn, lanes(pa, sa5, j, av), lanes(pb, sb5, j, bv)));
    // The last 1–3 elements through the same lanes (the others zero, their results dropped).
    const rem = end - j;
    if (rem > 0) storePartial(py + (<usize>j << 2), f(fn, partialLanes(pa, sa5, j, rem), partialLanes(pb, sb5, j, rem)), rem);
  }
}

// One function per code, so that each gets its own loop (see assembly/unary.ts).
function run_add(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_add, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_sub(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_sub, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_mul(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_mul, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_div(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_div, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_max(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_max, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_min(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_min, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_eq(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_eq, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}
function run_gt(a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32, nt: i32): void {
  run(Binary_gt, a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt);
}

export function binary(fn: i32, a: usize, b: usize, y: usize, d0: i32, d1: i32, d2: i32, d3: i32, d4: i32, d5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32,
  tid: i32, nt: i32): void {
  switch (fn) {
    case Binary_add: run_add(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_sub: run_sub(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_mul: run_mul(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_div: run_div(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_max: run_max(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_min: run_min(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_eq: run_eq(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    case Binary_gt: run_gt(a, b, y, d0, d1, d2, d3, d4, d5, sa0, sa1, sa2, sa3, sa4, sa5, sb0, sb1, sb2, sb3, sb4, sb5, nt); break;
    default: unreachable();
  }
}
