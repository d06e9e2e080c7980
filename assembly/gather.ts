import { firstTask, nextTask } from './common';

/** The row index value f selects among V rows, or −1 when it is not an integer in [0, V). */
@inline
function rowOf(f: f32, V: i32): i32 {
  return f >= 0 && f < <f32>V && f == Mathf.floor(f) ? <i32>f : -1;
}

/** y[o, k, :] = x[o, idx[k], :] (0 for an invalid index); one task per output row of outer × K. */
export function gather(x: usize, idx: usize, y: usize, outer: i32, V: i32, K: i32, inner: i32, tid: i32, nt: i32): void {
  const rows = outer * K;
  const bytes = <usize>inner << 2;
  for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
    const k = t % K, o = t / K;
    const v = rowOf(load<f32>(idx + (<usize>k << 2)), V);
    const dst = y + <usize>t * bytes;
    if (v < 0) memory.fill(dst, 0, bytes);
    else memory.copy(dst, x + <usize>(o * V + v) * bytes, bytes);
  }
}

/**
 * The occurrences of every row in idx, as table = [start (V + 1) | ks (K)]: the k's with
 * idx[k] = v are ks[start[v] … start[v + 1]), increasing. A counting sort; thread 0 does it all.
 */
export function gatherIndex(idx: usize, K: i32, V: i32, table: usize, tid: i32, nt: i32): void {
  if (tid != 0) return;
  const ks = table + (<usize>(V + 1) << 2);
  memory.fill(table, 0, <usize>(V + 1) << 2);
  for (let k = 0; k < K; k++) {
    const v = rowOf(load<f32>(idx + (<usize>k << 2)), V);
    if (v >= 0) {
      const c = table + (<usize>(v + 1) << 2);
      store<i32>(c, load<i32>(c) + 1);
    }
  }
  for (let v = 1; v <= V; v++) {
    const c = table + (<usize>v << 2);
    store<i32>(c, load<i32>(c) + load<i32>(c - 4));
  }
  // Each k goes to its row's next free slot, which advances start[v] to start[v + 1]…
  for (let k = 0; k < K; k++) {
    const v = rowOf(load<f32>(idx + (<usize>k << 2)), V);
    if (v < 0) continue;
    const c = table + (<usize>v << 2);
    const at = load<i32>(c);
    store<i32>(ks + (<usize>at << 2), k);
    store<i32>(c, at + 1);
  }
  // … so shifting the offsets up by one restores them.
  for (let v = V; v > 0; v--) store<i32>(table + (<usize>v << 2), load<i32>(table + (<usize>(v - 1) << 2)));
  store<i32>(table, 0);
}

/**
 * dx[o, v, :] = Σ dy[o, k, :] over the k's of row v in increasing order (table from gatherIndex).
 * One task per dx row of outer × V, so the sum order never depends on the threads.
 */
export function gatherGrad(dy: usize, dx: usize, table: usize, outer: i32, V: i32, K: i32, inner: i32, tid: i32, nt: i32): void {
  const rows = outer * V;
  const bytes = <usize>inner << 2;
  const ks = table + (<usize>(V + 1) << 2);
  for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
    const v = t % V, o = t / V;
    const dst = dx + <usize>t * bytes;
    memory.fill(dst, 0, bytes);
    const m1 = load<i32>(table + (<usize>(v + 1) << 2));
    for (let m = load<i32>(table + (<usize>v << 2)); m < m1; m++) {
      const src = dy + <usize>(o * K + load<i32>(ks + (<usize>m << 2))) * bytes;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        const b = <usize>i << 2;
        v128.store(dst + b, f32x4.add(v128.load(dst + b), v128.load(src + b)));
      }
      for (; i < inner; i++) {
        const b = <usize>i << 2;
        store<f32>(dst + b, load<f32>(dst + b) + load<f32>(src + b));
      }
    }
  }
}
