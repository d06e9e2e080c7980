import { firstTask, nextTask } from './common';
import { hsum4 } from './util/simd-math';
import { expf4 } from './util/transcendental';

/*
 * Scaled dot-product attention on [B, N, width] rows (docs/ops/attention.md), blocked so that no
 * kernel holds more than a block of scores.
 *
 * Forward and dQ: a task is (batch, block of QB query rows). The block's queries are packed
 * transposed, Qt[c][QB], so one query is one lane: a block of KB keys gives scores St[key][query]
 * from a 4-key × 8-query register tile (dots4x8), the keys read in place. The online softmax then
 * runs down each column in f32x4 lanes (4 queries at a time, no horizontal reductions), and the
 * probabilities, already laid out key-major, feed the 4-query × 8-column product with the value rows
 * (accum4x8), which rescales the running output by e^(m_old − m_new) as it loads it.
 * dK and dV: the same two tiles with the roles swapped: a task is (batch, block of KK keys), keys are
 * the lanes, and query rows stream past in blocks of QI.
 * A task computes its rows alone, in a fixed order, so no result depends on the thread count.
 * src/ops/attention.ts sizes each kernel's per-thread scratch from the same constants and layout.
 */

const QB: i32 = 16; // query rows per forward / dQ task (two 8-lane panels)
const KB: i32 = 64; // keys per online-softmax block
const KK: i32 = 16; // key rows per dK / dV task
const QI: i32 = 64; // query rows per dK / dV block

// @ts-ignore: decorator
@lazy const NEG_INF = f32x4.splat(<f32>-Infinity);
// @ts-ignore: decorator
@lazy const LANES = i32x4(0, 1, 2, 3);

/** dst[c][r] = row r, column c of `rows` rows of `cols` floats at src; lanes r ≥ rows are zero. */
function packT(src: usize, cols: i32, rows: i32, lanes: i32, dst: usize): void {
  for (let c = 0; c < cols; c++) {
    const d = dst + (<usize>(c * lanes) << 2);
    for (let r = 0; r < lanes; r++)
      store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>(r * cols + c) << 2)) : 0);
  }
}

/**
 * out[r][0, 8) = Σ_c a_r[c] · b[c][0, 8) for the four rows a_0 … a_3 (read in place, n floats each)
 * against eight lanes of a packed panel (bs bytes from one c to the next); out rows os bytes apart.
 * A function of its own so V8 allocates its 8 accumulators, 2 panel vectors and the splat alone.
 */
function dots4x8(a0: usize, a1: usize, a2: usize, a3: usize, b: usize, bs: usize, n: i32, out: usize, os: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = a0 + (<usize>n << 2);
  while (a0 < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(s, b0)); c01 = f32x4.add(c01, f32x4.mul(s, b1));
    s = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(s, b0)); c11 = f32x4.add(c11, f32x4.mul(s, b1));
    s = v128.load32_splat(a2);
    c20 = f32x4.add(c20, f32x4.mul(s, b0)); c21 = f32x4.add(c21, f32x4.mul(s, b1));
    s = v128.load32_splat(a3);
    c30 = f32x4.add(c30, f32x4.mul(s, b0)); c31 = f32x4.add(c31, f32x4.mul(s, b1));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; b += bs;
  }
  v128.store(out, c00); v128.store(out, c01, 16);
  v128.store(out + os, c10); v128.store(out + os, c11, 16);
  v128.store(out + 2 * os, c20); v128.store(out + 2 * os, c21, 16);
  v128.store(out + 3 * os, c30); v128.store(out + 3 * os, c31, 16);
}

/**
 * acc[r][0, 8) = acc[r][0, 8) · alpha[r] + Σ_t a[t][r] · b[t][0, 8): four lanes of a (astep bytes
 * from one t to the next) against eight columns of rows b (bstep bytes apart); acc rows ds bytes
 * apart. alpha = 0: no rescaling.
 */
function accum4x8(a: usize, astep: usize, b: usize, bstep: usize, n: i32, acc: usize, ds: usize, alpha: usize): void {
  let c00 = v128.load(acc), c01 = v128.load(acc, 16), c10 = v128.load(acc + ds), c11 = v128.load(acc + ds, 16);
  let c20 = v128.load(acc + 2 * ds), c21 = v128.load(acc + 2 * ds, 16);
  let c30 = v128.load(acc + 3 * ds), c31 = v128.load(acc + 3 * ds, 16);
  if (alpha) {
    let s = v128.load32_splat(alpha);
    c00 = f32x4.mul(c00, s); c01 = f32x4.mul(c01, s);
    s = v128.load32_splat(alpha, 4);
    c10 = f32x4.mul(c10, s); c11 = f32x4.mul(c11, s);
    s = v128.load32_splat(alpha, 8);
    c20 = f32x4.mul(c20, s); c21 = f32x4.mul(c21, s);
    s = v128.load32_splat(alpha, 12);
    c30 = f32x4.mul(c30, s); c31 = f32x4.mul(c31, s);
  }
  for (let t = 0; t < n; t++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(s, b0)); c01 = f32x4.add(c01, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(s, b0)); c11 = f32x4.add(c11, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(s, b0)); c21 = f32x4.add(c21, f32x4.mul(s, b1));
    s = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(s, b0)); c31 = f32x4.add(c31, f32x4.mul(s, b1));
    a += astep; b += bstep;
  }
  v128.store(acc, c00); v128.store(acc, c01, 16);
  v128.store(acc + ds, c10); v128.store(acc + ds, c11, 16);
  v128.store(acc + 2 * ds, c20); v128.store(acc + 2 * ds, c21, 16);
  v128.store(acc + 3 * ds, c30); v128.store(acc + 3 * ds, c31, 16);
}

/**
 * out[t][lane] = row (r0 + t) · lane's column of the packed panel, for t < n rounded up to 4 (rows
 * past the last are read as the last, never past the matrix) and lanes < used rounded up to 8.
 */
function scoresBlock(rows: usize, cols: i32, r0: i32, n: i32, panel: usize, lanes: i32, used: i32, out: usize): void {
  const rs = <usize>cols << 2, ls = <usize>lanes << 2, last = r0 + n - 1;
  for (let t = 0; t < n; t += 4) {
    const a0 = rows + <usize>(r0 + t) * rs;
    const a1 = rows + <usize>min(r0 + t + 1, last) * rs;
    const a2 = rows + <usize>min(r0 + t + 2, last) * rs;
    const a3 = rows + <usize>min(r0 + t + 3, last) * rs;
    for (let p = 0; p < used; p += 8) dots4x8(a0, a1, a2, a3, panel + (<usize>p << 2), ls, cols, out + <usize>t * ls + (<usize>p << 2), ls);
  }
}

/** T[t][0, 8) = the last (cols mod 8) columns of n rows of `cols` floats, zero-padded to 8. */
function copyTail(rows: usize, cols: i32, n: i32, T: usize): void {
  const c0 = cols & ~7;
  for (let t = 0; t < n; t++) {
    const src = rows + (<usize>(t * cols) << 2), dst = T + (<usize>t << 5);
    for (let c = 0; c < 8; c++) store<f32>(dst + (<usize>c << 2), c0 + c < cols ? load<f32>(src + (<usize>(c0 + c) << 2)) : 0);
  }
}

/**
 * acc[4 lanes][cols] (·alpha) += Σ_t a[t][lane] · rows[t]: full 8-column panels read the rows in
 * place, the partial last one reads the block's tail copy T (copyTail).
 */
function accumRows(a: usize, astep: usize, rows: usize, cols: i32, n: i32, acc: usize, accStride: i32, alpha: usize, T: usize): void {
  const full = cols >> 3, rs = <usize>cols << 2, ds = <usize>accStride << 2;
  for (let p = 0; p < full; p++) accum4x8(a, astep, rows + (<usize>p << 5), rs, n, acc + (<usize>p << 5), ds, alpha);
  if (cols & 7) accum4x8(a, astep, T, 32, n, acc + (<usize>full << 5), ds, alpha);
}

/**
 * Scores of four query lanes i … i+3 at key j from their raw dot products: scale · raw + mask, −∞
 * where j > i under causal (mask rows past Nq repeat the last; those lanes are never stored).
 */
@inline
function scoreQueries(raw: v128, sv: v128, m: usize, i: i32, j: i32, Nq: i32, Nk: i32, hasMask: i32, causal: i32): v128 {
  let s = f32x4.mul(raw, sv);
  if (hasMask) {
    const last = Nq - 1;
    let r = f32x4.splat(load<f32>(m + (<usize>(i * Nk + j) << 2)));
    r = f32x4.replace_lane(r, 1, load<f32>(m + (<usize>(min(i + 1, last) * Nk + j) << 2)));
    r = f32x4.replace_lane(r, 2, load<f32>(m + (<usize>(min(i + 2, last) * Nk + j) << 2)));
    s = f32x4.add(s, f32x4.replace_lane(r, 3, load<f32>(m + (<usize>(min(i + 3, last) * Nk + j) << 2))));
  }
  if (causal) s = v128.bitselect(NEG_INF, s, i32x4.gt_s(i32x4.splat(j), i32x4.add(i32x4.splat(i), LANES)));
  return s;
}

/**
 * Scores of query i at four key lanes j … j+3 from their raw dot products: scale · raw + mask, −∞
 * where a key is past i under causal (mask entries past Nk repeat the last; never stored).
 */
@inline
function scoreKeys(raw: v128, sv: v128, m: usize, i: i32, j: i32, Nk: i32, hasMask: i32, causal: i32): v128 {
  let s = f32x4.mul(raw, sv);
  if (hasMask) {
    const row = m + (<usize>(i * Nk) << 2);
    if (j + 4 <= Nk) s = f32x4.add(s, v128.load(row + (<usize>j << 2)));
    else {
      const last = Nk - 1;
      let r = f32x4.splat(load<f32>(row + (<usize>j << 2)));
      r = f32x4.replace_lane(r, 1, load<f32>(row + (<usize>min(j + 1, last) << 2)));
      r = f32x4.replace_lane(r, 2, load<f32>(row + (<usize>min(j + 2, last) << 2)));
      s = f32x4.add(s, f32x4.replace_lane(r, 3, load<f32>(row + (<usize>min(j + 3, last) << 2))));
    }
  }
  if (causal) s = v128.bitselect(NEG_INF, s, i32x4.gt_s(i32x4.add(i32x4.splat(j), LANES), i32x4.splat(i)));
  return s;
}

/** Σ_c a[c] · b[c] over n floats, in a fixed order (D_i = dy_i · o_i of the backward kernels). */
function rowDot(a: usize, b: usize, n: i32): f32 {
  let s = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= n; c += 4) s = f32x4.add(s, f32x4.mul(v128.load(a + (<usize>c << 2)), v128.load(b + (<usize>c << 2))));
  let r = hsum4(s);
  for (; c < n; c++) r += load<f32>(a + (<usize>c << 2)) * load<f32>(b + (<usize>c << 2));
  return r;
}

/** 0 where x is −∞, else x: the reference point of a row that has seen no key yet (or never will). */
@inline
function finiteOrZero(x: v128): v128 {
  return v128.andnot(x, f32x4.eq(x, NEG_INF));
}

/**
 * Forward (stats 0): y [B, Nq, dv] = softmax(q·kᵀ·scale + mask) · v, zeros for fully masked rows.
 * stats 1: y [B, Nq] = the rows' logsumexp (−∞ when fully masked); v and dv are unused.
 * Causal: key j is hidden from query i when j > i; key blocks past a task's last query are skipped.
 */
export function attention(q: usize, k: usize, v: usize, mask: usize, y: usize, B: i32, Nq: i32, Nk: i32, d: i32, dv: i32,
  scale: f32, maskBatch: i32, hasMask: i32, causal: i32, stats: i32, scratch: usize, perThread: i32, tid: i32, nt: i32): void {
  const dvp = (dv + 7) & ~7;
  if (QB * (d + KB + dvp + 3) + KB * 8 > perThread) unreachable();
  const Qt = scratch + (<usize>tid * <usize>perThread << 2);
  const S = Qt + (<usize>(d * QB) << 2);
  const acc = S + (<usize>(KB * QB) << 2);
  const M = acc + (<usize>(QB * dvp) << 2), L = M + (<usize>QB << 2), A = L + (<usize>QB << 2), T = A + (<usize>QB << 2);
  const ls = <usize>QB << 2;
  const sv = f32x4.splat(scale);
  const blocks = (Nq + QB - 1) / QB, total = B * blocks;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const b = task / blocks, i0 = (task % blocks) * QB, rows = min(QB, Nq - i0);
    packT(q + (<usize>((b * Nq + i0) * d) << 2), d, rows, QB, Qt);
    for (let g = 0; g < QB; g += 4) {
      v128.store(M + (<usize>g << 2), NEG_INF);
      v128.store(L + (<usize>g << 2), f32x4.splat(0));
    }
    if (!stats) memory.fill(acc, 0, <usize>(QB * dvp) << 2);
    const kEnd = causal ? min(Nk, i0 + rows) : Nk;
    const kb = k + (<usize>(b * Nk * d) << 2), mb = mask + (<usize>(b * maskBatch) << 2);
    for (let j0 = 0; j0 < kEnd; j0 += KB) {
      const n = min(KB, kEnd - j0);
      scoresBlock(kb, d, j0, n, Qt, QB, rows, S);
      for (let g = 0; g < rows; g += 4) {
        let bmax = NEG_INF;
        let sp = S + (<usize>g << 2);
        for (let t = 0; t < n; t++, sp += ls) {
          const s = scoreQueries(v128.load(sp), sv, mb, i0 + g, j0 + t, Nq, Nk, hasMask, causal);
          v128.store(sp, s);
          bmax = f32x4.max(bmax, s);
        }
        const mOld = v128.load(M + (<usize>g << 2));
        const mNew = f32x4.max(mOld, bmax);
        // Rows that have seen only −∞ keep the reference point 0: every e^(s − 0) is then exactly 0.
        const ref = finiteOrZero(mNew);
        const alpha = expf4(f32x4.sub(mOld, ref));
        let sum = f32x4.splat(0);
        sp = S + (<usize>g << 2);
        for (let t = 0; t < n; t++, sp += ls) {
          const p = expf4(f32x4.sub(v128.load(sp), ref));
          v128.store(sp, p);
          sum = f32x4.add(sum, p);
        }
        v128.store(L + (<usize>g << 2), f32x4.add(f32x4.mul(v128.load(L + (<usize>g << 2)), alpha), sum));
        v128.store(M + (<usize>g << 2), mNew);
        v128.store(A + (<usize>g << 2), alpha);
      }
      if (stats) continue;
      const vb = v + (<usize>((b * Nk + j0) * dv) << 2);
      if (dv & 7) copyTail(vb, dv, n, T);
      for (let g = 0; g < rows; g += 4)
        accumRows(S + (<usize>g << 2), ls, vb, dv, n, acc + (<usize>(g * dvp) << 2), dvp, A + (<usize>g << 2), T);
    }
    for (let r = 0; r < rows; r++) {
      const l = load<f32>(L + (<usize>r << 2));
      const i = b * Nq + i0 + r;
      if (stats) {
        store<f32>(y + (<usize>i << 2), l > 0 ? load<f32>(M + (<usize>r << 2)) + Mathf.log(l) : <f32>-Infinity);
        continue;
      }
      const inv = f32x4.splat(l > 0 ? <f32>1 / l : 0);
      const src = acc + (<usize>(r * dvp) << 2), dst = y + (<usize>(i * dv) << 2);
      let c = 0;
      for (; c + 4 <= dv; c += 4) v128.store(dst + (<usize>c << 2), f32x4.mul(v128.load(src + (<usize>c << 2)), inv));
      for (; c < dv; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * f32x4.extract_lane(inv, 0));
    }
  }
}

/**
 * dq [B, Nq, d] = scale · Σ_j p_ij (dp_ij − D_i) k_j with p_ij = e^(s_ij − lse_i), dp_ij = dy_i · v_j and
 * D_i = dy_i · o_i (o the forward output), blocked as the forward (queries in lanes, keys in blocks of KB).
 */
export function attentionGradQ(q: usize, k: usize, v: usize, dy: usize, lse: usize, o: usize, mask: usize, y: usize,
  B: i32, Nq: i32, Nk: i32, d: i32, dv: i32, scale: f32, maskBatch: i32, hasMask: i32, causal: i32, scratch: usize,
  perThread: i32, tid: i32, nt: i32): void {
  const dp8 = (d + 7) & ~7;
  if (QB * (d + dv + 2 * KB + dp8 + 2) + KB * 8 > perThread) unreachable();
  const Qt = scratch + (<usize>tid * <usize>perThread << 2);
  const Gt = Qt + (<usize>(d * QB) << 2);
  const S = Gt + (<usize>(dv * QB) << 2);
  const P = S + (<usize>(KB * QB) << 2);
  const acc = P + (<usize>(KB * QB) << 2);
  const Ls = acc + (<usize>(QB * dp8) << 2), Ds = Ls + (<usize>QB << 2), T = Ds + (<usize>QB << 2);
  const ls = <usize>QB << 2;
  const sv = f32x4.splat(scale);
  const blocks = (Nq + QB - 1) / QB, total = B * blocks;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const b = task / blocks, i0 = (task % blocks) * QB, rows = min(QB, Nq - i0);
    packT(q + (<usize>((b * Nq + i0) * d) << 2), d, rows, QB, Qt);
    packT(dy + (<usize>((b * Nq + i0) * dv) << 2), dv, rows, QB, Gt);
    for (let r = 0; r < QB; r++) {
      const i = min(b * Nq + i0 + r, b * Nq + Nq - 1);
      store<f32>(Ls + (<usize>r << 2), load<f32>(lse + (<usize>i << 2)));
      store<f32>(Ds + (<usize>r << 2), rowDot(dy + (<usize>(i * dv) << 2), o + (<usize>(i * dv) << 2), dv));
    }
    memory.fill(acc, 0, <usize>(QB * dp8) << 2);
    const kEnd = causal ? min(Nk, i0 + rows) : Nk;
    const kb = k + (<usize>(b * Nk * d) << 2), vb = v + (<usize>(b * Nk * dv) << 2), mb = mask + (<usize>(b * maskBatch) << 2);
    for (let j0 = 0; j0 < kEnd; j0 += KB) {
      const n = min(KB, kEnd - j0);
      scoresBlock(kb, d, j0, n, Qt, QB, rows, S);
      scoresBlock(vb, dv, j0, n, Gt, QB, rows, P);
      for (let g = 0; g < rows; g += 4) {
        const ref = finiteOrZero(v128.load(Ls + (<usize>g << 2))), D = v128.load(Ds + (<usize>g << 2));
        let sp = S + (<usize>g << 2), pp = P + (<usize>g << 2);
        for (let t = 0; t < n; t++, sp += ls, pp += ls) {
          const s = scoreQueries(v128.load(sp), sv, mb, i0 + g, j0 + t, Nq, Nk, hasMask, causal);
          const p = expf4(f32x4.sub(s, ref));
          v128.store(sp, f32x4.mul(p, f32x4.sub(v128.load(pp), D)));
        }
      }
      const kr = kb + (<usize>(j0 * d) << 2);
      if (d & 7) copyTail(kr, d, n, T);
      for (let g = 0; g < rows; g += 4) accumRows(S + (<usize>g << 2), ls, kr, d, n, acc + (<usize>(g * dp8) << 2), dp8, 0, T);
    }
    writeRows(acc, dp8, y + (<usize>((b * Nq + i0) * d) << 2), d, rows, scale);
  }
}

/** dst[r][c] = src[r][c] · scale for r < rows, c < cols (src rows `stride` floats apart). */
function writeRows(src: usize, stride: i32, dst: usize, cols: i32, rows: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>(r * stride) << 2), o = dst + (<usize>(r * cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) v128.store(o + (<usize>c << 2), f32x4.mul(v128.load(s + (<usize>c << 2)), sv));
    for (; c < cols; c++) store<f32>(o + (<usize>c << 2), load<f32>(s + (<usize>c << 2)) * scale);
  }
}

/**
 * wantV 0: dk [B, Nk, d] = scale · Σ_i p_ij (dp_ij − D_i) q_i (D_i = dy_i · o_i); wantV 1: dv [B, Nk, dv] = Σ_i p_ij dy_i.
 * Keys are the lanes (KK per task), query rows stream in blocks of QI; with causal, queries before
 * the task's first key see none of its keys and are skipped.
 */
export function attentionGradKV(q: usize, k: usize, v: usize, dy: usize, lse: usize, o: usize, mask: usize, y: usize,
  B: i32, Nq: i32, Nk: i32, d: i32, dv: i32, scale: f32, maskBatch: i32, hasMask: i32, causal: i32, wantV: i32,
  scratch: usize, perThread: i32, tid: i32, nt: i32): void {
  const cols = wantV ? dv : d, cp = (cols + 7) & ~7;
  if (KK * (d + dv + 2 * QI + cp) + QI * 8 > perThread) unreachable();
  const Kt = scratch + (<usize>tid * <usize>perThread << 2);
  const Vt = Kt + (<usize>(d * KK) << 2);
  const S = Vt + (<usize>(dv * KK) << 2);
  const P = S + (<usize>(QI * KK) << 2);
  const acc = P + (<usize>(QI * KK) << 2);
  const T = acc + (<usize>(KK * cp) << 2);
  const ls = <usize>KK << 2;
  const sv = f32x4.splat(scale);
  // The rows the products sum over: dy for dV, q for dK.
  const src = wantV ? dy : q, srcCols = wantV ? dv : d;
  const blocks = (Nk + KK - 1) / KK, total = B * blocks;
  for (let task = firstTask(total, nt); task < total; task = nextTask(task, total)) {
    const b = task / blocks, j0 = (task % blocks) * KK, keys = min(KK, Nk - j0);
    packT(k + (<usize>((b * Nk + j0) * d) << 2), d, keys, KK, Kt);
    if (!wantV) packT(v + (<usize>((b * Nk + j0) * dv) << 2), dv, keys, KK, Vt);
    memory.fill(acc, 0, <usize>(KK * cp) << 2);
    const qb = q + (<usize>(b * Nq * d) << 2), gb = dy + (<usize>(b * Nq * dv) << 2), mb = mask + (<usize>(b * maskBatch) << 2);
    for (let i0 = causal ? j0 : 0; i0 < Nq; i0 += QI) {
      const n = min(QI, Nq - i0);
      scoresBlock(qb, d, i0, n, Kt, KK, keys, S);
      if (!wantV) scoresBlock(gb, dv, i0, n, Vt, KK, keys, P);
      for (let t = 0; t < n; t++) {
        const i = i0 + t;
        const l = load<f32>(lse + (<usize>(b * Nq + i) << 2));
        const ref = f32x4.splat(l == <f32>-Infinity ? 0 : l);
        const at = <usize>((b * Nq + i) * dv) << 2;
        const D = f32x4.splat(wantV ? 0 : rowDot(dy + at, o + at, dv));
        const row = <usize>t * ls;
        for (let g = 0; g < keys; g += 4) {
          const sp = S + row + (<usize>g << 2);
          const p = expf4(f32x4.sub(scoreKeys(v128.load(sp), sv, mb, i, j0 + g, Nk, hasMask, causal), ref));
          v128.store(sp, wantV ? p : f32x4.mul(p, f32x4.sub(v128.load(P + row + (<usize>g << 2)), D)));
        }
      }
      const rows = src + (<usize>((b * Nq + i0) * srcCols) << 2);
      if (srcCols & 7) copyTail(rows, srcCols, n, T);
      for (let g = 0; g < keys; g += 4) accumRows(S + (<usize>g << 2), ls, rows, srcCols, n, acc + (<usize>(g * cp) << 2), cp, 0, T);
    }
    writeRows(acc, cp, y + (<usize>((b * Nk + j0) * cols) << 2), cols, keys, wantV ? 1 : scale);
  }
}
