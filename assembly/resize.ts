import { firstTask, nextTask } from './common';

// Nearest / bilinear resizing of planes × H × W images through the host's per-axis tables
// (src/ops/resize.ts, docs/ops/resize.md). Table layout, int32 words (λ as float32 bits):
//   rows:    i0[Ho] i1[Ho] λ[Ho] lo[H] hi[H]
//   columns: i0[Wo] i1[Wo] λ[Wo] lo[W] hi[W]
// Output o reads inputs i0[o], i1[o] with weights 1 − λ[o], λ[o]; input i is read by outputs lo[i] … hi[i].

@inline
function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Weight of input i in output o along one axis (λ = 0 where i1 = i0). */
@inline
function weight(i0: usize, i1: usize, lam: usize, o: i32, i: i32): f32 {
  const l = load<f32>(at(lam, o));
  return (load<i32>(at(i0, o)) == i ? 1 - l : 0) + (load<i32>(at(i1, o)) == i ? l : 0);
}

/**
 * One task per output row. Bilinear blends the two source rows into the thread's row buffer
 * (f32x4 across the width), then each output blends two entries of it; nearest copies one entry
 * of the one source row.
 */
export function resize(src: usize, dst: usize, table: usize, scratch: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  linear: i32, tid: i32, nt: i32): void {
  const i0h = table, i1h = at(i0h, Ho), lamh = at(i1h, Ho);
  const i0w = at(lamh, Ho + 2 * H), i1w = at(i0w, Wo), lamw = at(i1w, Wo);
  const buf = scratch + (<usize>(tid * (W + 4)) << 2);
  const rows = planes * Ho;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const p = r / Ho, o = r % Ho;
    const a = load<i32>(at(i0h, o)), b = load<i32>(at(i1h, o));
    const src0 = src + (<usize>((p * H + a) * W) << 2);
    const out = dst + (<usize>(r * Wo) << 2);
    if (!linear) {
      for (let q = 0; q < Wo; q++) store<f32>(at(out, q), load<f32>(at(src0, load<i32>(at(i0w, q)))));
      continue;
    }
    let row = src0;
    if (b != a) {
      const src1 = src + (<usize>((p * H + b) * W) << 2);
      const l = load<f32>(at(lamh, o));
      const v0 = f32x4.splat(1 - l), v1 = f32x4.splat(l);
      let w = 0;
      for (; w + 4 <= W; w += 4)
        v128.store(at(buf, w), f32x4.add(f32x4.mul(v0, v128.load(at(src0, w))), f32x4.mul(v1, v128.load(at(src1, w)))));
      for (; w < W; w++) store<f32>(at(buf, w), (1 - l) * load<f32>(at(src0, w)) + l * load<f32>(at(src1, w)));
      row = buf;
    }
    for (let q = 0; q < Wo; q++) {
      const l = load<f32>(at(lamw, q));
      store<f32>(at(out, q), (1 - l) * load<f32>(at(row, load<i32>(at(i0w, q)))) + l * load<f32>(at(row, load<i32>(at(i1w, q)))));
    }
  }
}

/**
 * The adjoint; one task per dx row i. The thread's buffer of Wo sums gathers wh(o, i) · dy[o, ·]
 * over the output rows o = lo[i] … hi[i] that read row i (f32x4 across the width), then each dx
 * element sums ww(q, j) · buffer[q] over the output columns q that read column j.
 */
export function resizeGrad(src: usize, dst: usize, table: usize, scratch: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  linear: i32, tid: i32, nt: i32): void {
  const i0h = table, i1h = at(i0h, Ho), lamh = at(i1h, Ho), loh = at(lamh, Ho), hih = at(loh, H);
  const i0w = at(hih, H), i1w = at(i0w, Wo), lamw = at(i1w, Wo), low = at(lamw, Wo), hiw = at(low, W);
  const buf = scratch + (<usize>(tid * (Wo + 4)) << 2);
  const rows = planes * H;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const p = r / H, i = r % H;
    memory.fill(buf, 0, <usize>Wo << 2);
    const oEnd = load<i32>(at(hih, i));
    for (let o = load<i32>(at(loh, i)); o <= oEnd; o++) {
      const wh = weight(i0h, i1h, lamh, o, i);
      const vw = f32x4.splat(wh);
      const grads = src + (<usize>((p * Ho + o) * Wo) << 2);
      let q = 0;
      for (; q + 4 <= Wo; q += 4) v128.store(at(buf, q), f32x4.add(v128.load(at(buf, q)), f32x4.mul(vw, v128.load(at(grads, q)))));
      for (; q < Wo; q++) store<f32>(at(buf, q), load<f32>(at(buf, q)) + wh * load<f32>(at(grads, q)));
    }
    const out = dst + (<usize>(r * W) << 2);
    for (let j = 0; j < W; j++) {
      let acc: f32 = 0;
      const qEnd = load<i32>(at(hiw, j));
      for (let q = load<i32>(at(low, j)); q <= qEnd; q++) acc += weight(i0w, i1w, lamw, q, j) * load<f32>(at(buf, q));
      store<f32>(at(out, j), acc);
    }
  }
}
