import { firstTask, nextTask } from './common';
import { POOL_avg, POOL_max } from './generated/pool2d';

// Pooling of planes × H × W images (docs/ops/pooling.md). Window (oh, ow) covers rows
// oh·sh − top … + kh − 1 and columns ow·sw − left … + kw − 1; only real pixels are read.

/** A window's divisor along one axis: clipped to the padded extent (includePad), else to the image. */
@inline
function divisor(o: i32, s: i32, k: i32, before: i32, size: i32, after: i32, includePad: i32): i32 {
  const start = o * s - before;
  return includePad ? min(start + k, size + after) - start : min(start + k, size) - max(start, 0);
}

/** First window along an axis that contains pixel i: ⌈(i + before − k + 1) / s⌉, at least 0. */
@inline
function firstWindow(i: i32, s: i32, k: i32, before: i32): i32 {
  const a = i + before - k + 1;
  return a <= 0 ? 0 : (a + s - 1) / s;
}

/** Length of each row buffer of pool2d; a thread has two, then Wo column divisors (src/ops/pool2d.ts allocates the same). */
@inline
function rowLength(W: i32, Wo: i32, kw: i32, sw: i32, left: i32, right: i32): i32 {
  return max(left + W + right, (Wo - 1) * sw + kw) + 4;
}

@inline
function combine(isMax: bool, a: v128, b: v128): v128 {
  return isMax ? f32x4.max(a, b) : f32x4.add(a, b);
}

@inline
function combine1(isMax: bool, a: f32, b: f32): f32 {
  return isMax ? max(a, b) : a + b;
}

/**
 * Max (mode POOL_max) or average (POOL_avg) pooling; one task per output row. The window is
 * separable, and every pass runs f32x4 across the row:
 *   1. row buffer R = max / sum of the window's input rows, between left and right padding
 *      (−∞ for max, 0 for sums; also past the right padding, where a ceil-mode window may reach);
 *   2. S[c] = max / sum of R[c … c + kw − 1] for every column c (stride 1);
 *   3. y[ow] = S[ow·sw] (for sw = 1, step 2 writes y directly; sw = 2 picks even lanes),
 *      divided for averages by the row divisor times the column divisor (a table per thread).
 */
export function pool2d(mode: i32, x: usize, y: usize, scratch: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32, tid: i32, nt: i32): void {
  let isMax = false;
  switch (mode) {
    case POOL_max: isMax = true; break;
    case POOL_avg: break;
    default: unreachable();
  }
  const L = rowLength(W, Wo, kw, sw, left, right);
  const R = scratch + (<usize>(tid * (2 * L + Wo + 4)) << 2);
  const S = R + (<usize>L << 2), cdiv = S + (<usize>L << 2);
  const fill: f32 = isMax ? -Infinity : 0;
  for (let j = 0; j < left; j++) store<f32>(R + (<usize>j << 2), fill);
  for (let j = left + W; j < L; j++) store<f32>(R + (<usize>j << 2), fill);
  if (!isMax) for (let o = 0; o < Wo; o++) store<f32>(cdiv + (<usize>o << 2), <f32>divisor(o, sw, kw, left, W, right, includePad));
  const C = (Wo - 1) * sw + 1; // columns of S that outputs read
  const rows = planes * Ho;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const p = r / Ho, oh = r % Ho;
    const hs = oh * sh - top;
    const h0 = max(hs, 0), h1 = min(hs + kh, H);
    // 1. Vertical.
    const src = x + (<usize>((p * H + h0) * W) << 2);
    const row = R + (<usize>left << 2);
    let w = 0;
    for (; w + 4 <= W; w += 4) {
      let at = src + (<usize>w << 2);
      let acc = v128.load(at);
      for (let h = h0 + 1; h < h1; h++) {
        at += <usize>W << 2;
        acc = combine(isMax, acc, v128.load(at));
      }
      v128.store(row + (<usize>w << 2), acc);
    }
    for (; w < W; w++) {
      let at = src + (<usize>w << 2);
      let acc = load<f32>(at);
      for (let h = h0 + 1; h < h1; h++) {
        at += <usize>W << 2;
        acc = combine1(isMax, acc, load<f32>(at));
      }
      store<f32>(row + (<usize>w << 2), acc);
    }
    // 2. Horizontal at stride 1, 4 columns at a time (R has room for the overrun).
    const out = y + (<usize>(r * Wo) << 2);
    const dst = sw == 1 ? out : S;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      let at = R + (<usize>c << 2);
      let acc = v128.load(at);
      for (let j = 1; j < kw; j++) acc = combine(isMax, acc, v128.load(at + (<usize>j << 2)));
      v128.store(dst + (<usize>c << 2), acc);
    }
    for (; c < C; c++) {
      const at = R + (<usize>c << 2);
      let acc = load<f32>(at);
      for (let j = 1; j < kw; j++) acc = combine1(isMax, acc, load<f32>(at + (<usize>j << 2)));
      store<f32>(dst + (<usize>c << 2), acc);
    }
    // 3. Subsample.
    let ow = 0;
    if (sw == 2) {
      for (; ow + 4 <= Wo; ow += 4) {
        const at = S + (<usize>(2 * ow) << 2);
        v128.store(out + (<usize>ow << 2), i32x4.shuffle(v128.load(at), v128.load(at + 16), 0, 2, 4, 6));
      }
    }
    if (sw > 1) for (; ow < Wo; ow++) store<f32>(out + (<usize>ow << 2), load<f32>(S + (<usize>(ow * sw) << 2)));
    if (!isMax) {
      const rd = f32x4.splat(<f32>divisor(oh, sh, kh, top, H, bottom, includePad));
      let o = 0;
      for (; o + 4 <= Wo; o += 4) {
        const at = out + (<usize>o << 2);
        v128.store(at, f32x4.div(v128.load(at), f32x4.mul(rd, v128.load(cdiv + (<usize>o << 2)))));
      }
      for (; o < Wo; o++) {
        const at = out + (<usize>o << 2);
        store<f32>(at, load<f32>(at) / (f32x4.extract_lane(rd, 0) * load<f32>(cdiv + (<usize>o << 2))));
      }
    }
  }
}

/**
 * dx of max pooling; one task per dx row h. Every window that overlaps row h finds its first
 * maximum again from x (row-major scan, strict >), and if that lies in row h adds its dy there.
 * Windows are visited in ascending (oh, ow), so each dx element sums its terms in that fixed order.
 */
export function maxPool2dGrad(x: usize, dy: usize, dx: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32, tid: i32, nt: i32): void {
  const rows = planes * H;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const p = r / H, h = r % H;
    const out = dx + (<usize>(r * W) << 2);
    memory.fill(out, 0, <usize>W << 2);
    const plane = x + (<usize>(p * H * W) << 2);
    const ohEnd = min(Ho - 1, (h + top) / sh);
    for (let oh = firstWindow(h, sh, kh, top); oh <= ohEnd; oh++) {
      const hs = oh * sh - top;
      const h0 = max(hs, 0), h1 = min(hs + kh, H);
      const grads = dy + (<usize>((p * Ho + oh) * Wo) << 2);
      for (let ow = 0; ow < Wo; ow++) {
        const ws = ow * sw - left;
        const w0 = max(ws, 0), w1 = min(ws + kw, W);
        let bh = h0, bw = w0;
        let best = load<f32>(plane + (<usize>(h0 * W + w0) << 2));
        for (let i = h0; i < h1; i++) {
          const line = plane + (<usize>(i * W) << 2);
          for (let j = w0; j < w1; j++) {
            const v = load<f32>(line + (<usize>j << 2));
            if (v > best) { best = v; bh = i; bw = j; }
          }
        }
        if (bh == h) {
          const at = out + (<usize>bw << 2);
          store<f32>(at, load<f32>(at) + load<f32>(grads + (<usize>ow << 2)));
        }
      }
    }
  }
}

/**
 * dx of average pooling; one task per dx row h. A row buffer of Wo sums first gathers
 * dy[oh, ·] / rowDivisor(oh) over the windows overlapping row h (f32x4 across outputs), is
 * divided by each column's divisor, then each dx pixel sums the buffer over the windows holding it.
 */
export function avgPool2dGrad(dy: usize, dx: usize, scratch: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32, tid: i32, nt: i32): void {
  const buf = scratch + (<usize>(tid * (Wo + 4)) << 2);
  const rows = planes * H;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const p = r / H, h = r % H;
    memory.fill(buf, 0, <usize>Wo << 2);
    const ohEnd = min(Ho - 1, (h + top) / sh);
    for (let oh = firstWindow(h, sh, kh, top); oh <= ohEnd; oh++) {
      const rd = <f32>divisor(oh, sh, kh, top, H, bottom, includePad);
      const vd = f32x4.splat(rd);
      const grads = dy + (<usize>((p * Ho + oh) * Wo) << 2);
      let ow = 0;
      for (; ow + 4 <= Wo; ow += 4) {
        const at = buf + (<usize>ow << 2);
        v128.store(at, f32x4.add(v128.load(at), f32x4.div(v128.load(grads + (<usize>ow << 2)), vd)));
      }
      for (; ow < Wo; ow++) {
        const at = buf + (<usize>ow << 2);
        store<f32>(at, load<f32>(at) + load<f32>(grads + (<usize>ow << 2)) / rd);
      }
    }
    for (let ow = 0; ow < Wo; ow++) {
      const at = buf + (<usize>ow << 2);
      store<f32>(at, load<f32>(at) / <f32>divisor(ow, sw, kw, left, W, right, includePad));
    }
    const out = dx + (<usize>(r * W) << 2);
    for (let w = 0; w < W; w++) {
      const owEnd = min(Wo - 1, (w + left) / sw);
      let acc: f32 = 0;
      for (let ow = firstWindow(w, sw, kw, left); ow <= owEnd; ow++) acc += load<f32>(buf + (<usize>ow << 2));
      store<f32>(out + (<usize>w << 2), acc);
    }
  }
}
