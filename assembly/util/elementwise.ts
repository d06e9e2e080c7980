// Index and lane helpers of the elementwise kernels (unary, binary, where). The broadcasting ones
// see the output as KERNEL_RANK = 6 dims d0…d5 that src/ops/util/broadcast.ts collapsed, each input
// with its own element strides (0 along broadcast axes); the last axis has stride 0 or 1 in every
// input; a task of theirs is up to CHUNK elements of one row (an index over d0…d4).

/** Elements per task of the streaming kernels: 16 KiB of f32 input, large enough to amortise claiming it. */
export const CHUNK: i32 = 4096;

/** Element offset of row r (row-major over d0…d4) in an input with strides s0…s4. */
@inline export function rowOffset(r: i32, d1: i32, d2: i32, d3: i32, d4: i32, s0: i32, s1: i32, s2: i32, s3: i32, s4: i32): i32 {
  let t = r;
  let o = (t % d4) * s4;
  t /= d4;
  o += (t % d3) * s3;
  t /= d3;
  o += (t % d2) * s2;
  t /= d2;
  o += (t % d1) * s1;
  return o + (t / d1) * s0;
}

/** Lanes j…j+3 of a row at p: loaded where the row has stride 1, the row's one value (`scalar`) where 0. */
@inline export function lanes(p: usize, s: i32, j: i32, scalar: v128): v128 {
  return s ? v128.load(p + (<usize>j << 2)) : scalar;
}

/** The first rem (1–3) lanes from j on (the rest zero), or the row's one value at stride 0. */
export function partialLanes(p: usize, s: i32, j: i32, rem: i32): v128 {
  if (!s) return v128.load32_splat(p);
  const q = p + (<usize>j << 2);
  let v = v128.load32_zero(q);
  if (rem > 1) v = v128.load32_lane(q + 4, v, 1);
  if (rem > 2) v = v128.load32_lane(q + 8, v, 2);
  return v;
}

/** Stores the first rem (1–3) lanes of v at p. */
export function storePartial(p: usize, v: v128, rem: i32): void {
  v128.store32_lane(p, v, 0);
  if (rem > 1) v128.store32_lane(p + 4, v, 1);
  if (rem > 2) v128.store32_lane(p + 8, v, 2);
}
