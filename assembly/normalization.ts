import { firstTask, nextTask } from './common';
import { dotDevF32, hsum4, sumF32, sumSqDevF32 } from './util/simd-math';

/*
 * GroupNorm, LayerNorm and BatchNorm over an N × C × S view (S = the spatial size; LayerNorm is
 * groups = 1 over [rows, D, 1]). A statistics group j is:
 *  - batch = 0 (group norm): j = n·G + g, the contiguous block of the group's Cg = C/G channels,
 *    Cg·S floats at j·Cg·S; channel of its element t: g·Cg + t / S;
 *  - batch = 1 (batch norm): j = c, N segments of S floats at (n·C + c)·S; channel c.
 * One task per group (per channel for the affine gradients), every sum in a fixed order: results
 * do not depend on the thread count. Statistics tensors are [2, groups]: means, then biased variances.
 * The formulas are in docs/ops/normalization.md.
 */

// Mean and biased variance of the last group moments() visited (globals are per thread).
let gMean: f64 = 0;
let gVar: f64 = 0;

@inline function groups(N: i32, C: i32, G: i32, batch: i32): i32 { return batch ? C : N * G; }
@inline function segments(N: i32, batch: i32): i32 { return batch ? N : 1; }
@inline function segmentLen(C: i32, S: i32, G: i32, batch: i32): i32 { return batch ? S : (C / G) * S; }
/** Byte offset of segment k of group j. */
@inline function segment(j: i32, k: i32, C: i32, S: i32, G: i32, batch: i32): usize {
  return (batch ? <usize>(k * C + j) * <usize>S : <usize>j * <usize>segmentLen(C, S, G, batch)) << 2;
}
/** Channels per segment and the first one's index. */
@inline function channels(C: i32, G: i32, batch: i32): i32 { return batch ? 1 : C / G; }
@inline function firstChannel(j: i32, C: i32, G: i32, batch: i32): i32 { return batch ? j : (j % G) * (C / G); }

/** Two passes: the mean, then Σ (x − mean)² (no cancellation, unlike E[x²] − mean²). */
function moments(x: usize, j: i32, N: i32, C: i32, S: i32, G: i32, batch: i32): void {
  const segs = segments(N, batch), len = segmentLen(C, S, G, batch);
  let s: f64 = 0;
  for (let k = 0; k < segs; k++) s += sumF32(x + segment(j, k, C, S, G, batch), len);
  const count = <f64>segs * <f64>len;
  const m = s / count;
  let q: f64 = 0;
  for (let k = 0; k < segs; k++) q += sumSqDevF32(x + segment(j, k, C, S, G, batch), len, <f32>m);
  gMean = m;
  gVar = q / count;
}

@inline function param(p: usize, c: i32, fallback: f32): f32 { return p ? load<f32>(p + (<usize>c << 2)) : fallback; }
@inline function params(p: usize, c: i32, fallback: f32): v128 { return p ? v128.load(p + (<usize>c << 2)) : f32x4.splat(fallback); }

/** out[t] = (a·in[t] + k·(x[t] − m) + b) for t < n, per-channel scalars (the body of every write pass). */
function axpb(inp: usize, x: usize, out: usize, n: i32, a: f32, k: f32, m: f32, b: f32): void {
  const av = f32x4.splat(a), kv = f32x4.splat(k), mv = f32x4.splat(m), bv = f32x4.splat(b);
  let t = 0;
  for (; t + 4 <= n; t += 4) {
    const o = <usize>t << 2;
    const d = f32x4.sub(v128.load(x + o), mv);
    v128.store(out + o, f32x4.add(f32x4.add(f32x4.mul(av, v128.load(inp + o)), f32x4.mul(kv, d)), bv));
  }
  for (; t < n; t++) {
    const o = <usize>t << 2;
    store<f32>(out + o, a * load<f32>(inp + o) + k * (load<f32>(x + o) - m) + b);
  }
}

/**
 * The write pass of one segment: out = a_c·in + k_c·(x − m) + b_c per channel c, with
 * a_c = A·γ_c, k_c = K1·γ_c + K0 and b_c = B0 + β_c (γ = 1, β = 0 where absent). Forward:
 * A = 0, K1 = rstd, K0 = 0, B0 = 0. Backward: A = rstd, K1 = 0. Channels of S ≥ 4 floats (or one per
 * segment) run as rows; S = 1 runs across channels with γ, β as vectors (LayerNorm); S = 2, 3 per channel.
 */
function writeSegment(inp: usize, x: usize, out: usize, c0: i32, cps: i32, S: i32, gamma: usize, beta: usize,
  A: f32, K1: f32, K0: f32, B0: f32, m: f32): void {
  let q = 0;
  if (S == 1 && cps > 1) {
    const Av = f32x4.splat(A), K1v = f32x4.splat(K1), K0v = f32x4.splat(K0), Bv = f32x4.splat(B0), mv = f32x4.splat(m);
    for (; q + 4 <= cps; q += 4) {
      const o = <usize>q << 2;
      const g = params(gamma, c0 + q, 1);
      const d = f32x4.sub(v128.load(x + o), mv);
      const a = f32x4.mul(f32x4.mul(Av, g), v128.load(inp + o));
      const kd = f32x4.mul(f32x4.add(f32x4.mul(K1v, g), K0v), d);
      v128.store(out + o, f32x4.add(f32x4.add(a, kd), f32x4.add(Bv, params(beta, c0 + q, 0))));
    }
  }
  for (; q < cps; q++) {
    const o = <usize>(q * S) << 2;
    const g = param(gamma, c0 + q, 1);
    axpb(inp + o, x + o, out + o, S, A * g, K1 * g + K0, m, B0 + param(beta, c0 + q, 0));
  }
}

/** Mean and variance of every group into stats [2, groups]. */
export function normStats(x: usize, stats: usize, N: i32, C: i32, S: i32, G: i32, batch: i32, tid: i32, nt: i32): void {
  const n = groups(N, C, G, batch);
  for (let j = firstTask(n, nt); j < n; j = nextTask(j, n)) {
    moments(x, j, N, C, S, G, batch);
    store<f32>(stats + (<usize>j << 2), <f32>gMean);
    store<f32>(stats + (<usize>(n + j) << 2), <f32>gVar);
  }
}

/**
 * y = (x − mean)·rstd·γ_c + β_c, rstd = 1/√(var + eps), per group: its statistics computed here
 * (given = 0) or read from stats (given = 1: BatchNorm in eval mode). gamma / beta are 0 when absent.
 */
export function normForward(x: usize, stats: usize, gamma: usize, beta: usize, y: usize, N: i32, C: i32, S: i32, G: i32,
  batch: i32, given: i32, eps: f32, tid: i32, nt: i32): void {
  const n = groups(N, C, G, batch), segs = segments(N, batch), cps = channels(C, G, batch);
  for (let j = firstTask(n, nt); j < n; j = nextTask(j, n)) {
    if (given) {
      gMean = <f64>load<f32>(stats + (<usize>j << 2));
      gVar = <f64>load<f32>(stats + (<usize>(n + j) << 2));
    } else moments(x, j, N, C, S, G, batch);
    const rstd = <f32>(1 / Math.sqrt(gVar + <f64>eps));
    const c0 = firstChannel(j, C, G, batch);
    for (let k = 0; k < segs; k++) {
      const o = segment(j, k, C, S, G, batch);
      writeSegment(x + o, x + o, y + o, c0, cps, S, gamma, beta, 0, rstd, 0, 0, <f32>gMean);
    }
  }
}

/**
 * dx of the normalisation. Batch statistics (fixed = 0), per group with dŷ = dy·γ:
 *   dx = rstd·(dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)), x̂ = (x − m)·rstd,
 * one pass for Σ dŷ and Σ dŷ·(x − m), one to write. Given statistics (fixed = 1): dx = rstd·dŷ.
 */
export function normGradInput(dy: usize, x: usize, stats: usize, gamma: usize, dx: usize, N: i32, C: i32, S: i32, G: i32,
  batch: i32, fixed: i32, eps: f32, tid: i32, nt: i32): void {
  const n = groups(N, C, G, batch), segs = segments(N, batch), cps = channels(C, G, batch);
  const count = <f64>segs * <f64>segmentLen(C, S, G, batch);
  for (let j = firstTask(n, nt); j < n; j = nextTask(j, n)) {
    const m = load<f32>(stats + (<usize>j << 2));
    const rstd = 1 / Math.sqrt(<f64>load<f32>(stats + (<usize>(n + j) << 2)) + <f64>eps);
    const c0 = firstChannel(j, C, G, batch);
    let k: f64 = 0, b: f64 = 0;
    if (!fixed) {
      let sdy: f64 = 0, sdyx: f64 = 0;
      for (let s = 0; s < segs; s++) {
        const o = segment(j, s, C, S, G, batch);
        let q = 0;
        if (S == 1 && cps > 1) {
          gammaSums(dy + o, x + o, gamma, c0, cps & ~3, m);
          sdy += gSdy;
          sdyx += gSdyx;
          q = cps & ~3;
        }
        for (; q < cps; q++) {
          const qo = o + (<usize>(q * S) << 2);
          const g = <f64>param(gamma, c0 + q, 1);
          sdy += g * sumF32(dy + qo, S);
          sdyx += g * dotDevF32(dy + qo, x + qo, S, m);
        }
      }
      // mean(dŷ) = sdy / count, mean(dŷ·x̂) = rstd·sdyx / count.
      k = -rstd * rstd * rstd * sdyx / count;
      b = -rstd * sdy / count;
    }
    for (let s = 0; s < segs; s++) {
      const o = segment(j, s, C, S, G, batch);
      writeSegment(dy + o, x + o, dx + o, c0, cps, S, gamma, 0, <f32>rstd, 0, <f32>k, <f32>b, m);
    }
  }
}

let gSdy: f64 = 0;
let gSdyx: f64 = 0;

/** Σ γ_c·dy_c and Σ γ_c·dy_c·(x_c − m) over n (a multiple of 4) consecutive channels of one float each (LayerNorm rows). */
function gammaSums(dy: usize, x: usize, gamma: usize, c0: i32, n: i32, m: f32): void {
  const mv = f32x4.splat(m);
  let sdy: f64 = 0, sdyx: f64 = 0;
  for (let q = 0; q < n;) {
    const end = min(n, q + 64);
    let a = f32x4.splat(0), b = f32x4.splat(0);
    for (; q < end; q += 4) {
      const o = <usize>q << 2;
      const gd = f32x4.mul(params(gamma, c0 + q, 1), v128.load(dy + o));
      a = f32x4.add(a, gd);
      b = f32x4.add(b, f32x4.mul(gd, f32x4.sub(v128.load(x + o), mv)));
    }
    sdy += <f64>hsum4(a);
    sdyx += <f64>hsum4(b);
  }
  gSdy = sdy;
  gSdyx = sdyx;
}

/**
 * dγ and dβ into out [2, C]: out[c] = Σ dy·x̂ and out[C + c] = Σ dy over the batch and the
 * positions of channel c (x̂ with the statistics of the group each element belongs to).
 */
export function normGradAffine(dy: usize, x: usize, stats: usize, out: usize, N: i32, C: i32, S: i32, G: i32,
  batch: i32, eps: f32, tid: i32, nt: i32): void {
  const n = groups(N, C, G, batch), Cg = C / G;
  if (S == 1) {
    affineAcrossChannels(dy, x, stats, out, N, C, G, batch, eps, n, tid, nt);
    return;
  }
  for (let c = firstTask(C, nt); c < C; c = nextTask(c, C)) {
    let dg: f64 = 0, db: f64 = 0;
    for (let i = 0; i < N; i++) {
      const j = batch ? c : i * G + c / Cg;
      const m = load<f32>(stats + (<usize>j << 2));
      const rstd = 1 / Math.sqrt(<f64>load<f32>(stats + (<usize>(n + j) << 2)) + <f64>eps);
      const o = <usize>(i * C + c) * <usize>S << 2;
      dg += rstd * dotDevF32(dy + o, x + o, S, m);
      db += sumF32(dy + o, S);
    }
    store<f32>(out + (<usize>c << 2), <f32>dg);
    store<f32>(out + (<usize>(C + c) << 2), <f32>db);
  }
}

/**
 * normGradAffine for S = 1 ([rows, channels] views such as LayerNorm's): one task per block of 4
 * channels, SIMD across them down the rows, each lane with its own group's statistics.
 */
function affineAcrossChannels(dy: usize, x: usize, stats: usize, out: usize, N: i32, C: i32, G: i32, batch: i32,
  eps: f32, n: i32, tid: i32, nt: i32): void {
  const Cg = C / G, blocks = (C + 3) >> 2;
  const epsv = f32x4.splat(eps);
  for (let blk = firstTask(blocks, nt); blk < blocks; blk = nextTask(blk, blocks)) {
    const c = blk << 2;
    if (c + 4 > C) {
      // The last, partial block: per channel, down the rows.
      for (let cc = c; cc < C; cc++) {
        let dg: f64 = 0, db: f64 = 0;
        for (let i = 0; i < N; i++) {
          const j = batch ? cc : i * G + cc / Cg;
          const o = <usize>(i * C + cc) << 2;
          const d = <f64>load<f32>(dy + o);
          const rstd = 1 / Math.sqrt(<f64>load<f32>(stats + (<usize>(n + j) << 2)) + <f64>eps);
          dg += d * (<f64>load<f32>(x + o) - <f64>load<f32>(stats + (<usize>j << 2))) * rstd;
          db += d;
        }
        store<f32>(out + (<usize>cc << 2), <f32>dg);
        store<f32>(out + (<usize>(C + cc) << 2), <f32>db);
      }
      continue;
    }
    let dg0 = f64x2.splat(0), dg1 = f64x2.splat(0), db0 = f64x2.splat(0), db1 = f64x2.splat(0);
    for (let i = 0; i < N; i++) {
      // Each lane's group: j = c (batch) or i·G + channel / Cg.
      const j0 = batch ? c : i * G + c / Cg, j1 = batch ? c + 1 : i * G + (c + 1) / Cg;
      const j2 = batch ? c + 2 : i * G + (c + 2) / Cg, j3 = batch ? c + 3 : i * G + (c + 3) / Cg;
      const m = lanes(stats, j0, j1, j2, j3), v = lanes(stats + (<usize>n << 2), j0, j1, j2, j3);
      const o = <usize>(i * C + c) << 2;
      const d = v128.load(dy + o);
      const g = f32x4.div(f32x4.mul(d, f32x4.sub(v128.load(x + o), m)), f32x4.sqrt(f32x4.add(v, epsv)));
      dg0 = f64x2.add(dg0, f64x2.promote_low_f32x4(g));
      dg1 = f64x2.add(dg1, f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 2, 3)));
      db0 = f64x2.add(db0, f64x2.promote_low_f32x4(d));
      db1 = f64x2.add(db1, f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 2, 3)));
    }
    const oc = out + (<usize>c << 2), ob = out + (<usize>(C + c) << 2);
    v128.store64_lane(oc, f32x4.demote_f64x2_zero(dg0), 0);
    v128.store64_lane(oc + 8, f32x4.demote_f64x2_zero(dg1), 0);
    v128.store64_lane(ob, f32x4.demote_f64x2_zero(db0), 0);
    v128.store64_lane(ob + 8, f32x4.demote_f64x2_zero(db1), 0);
  }
}

/** [p[a], p[b], p[c], p[d]]. */
@inline
function lanes(p: usize, a: i32, b: i32, c: i32, d: i32): v128 {
  let v = f32x4.splat(load<f32>(p + (<usize>a << 2)));
  v = f32x4.replace_lane(v, 1, load<f32>(p + (<usize>b << 2)));
  v = f32x4.replace_lane(v, 2, load<f32>(p + (<usize>c << 2)));
  return f32x4.replace_lane(v, 3, load<f32>(p + (<usize>d << 2)));
}
