import { firstTask, nextTask } from './common';

/**
 * pad: one task per output row of planes × Ho × Wo. srcRow[oh] / srcCol[ow] hold the input row /
 * column each output row / column reads, −1 for the fill value (src/ops/pad.ts builds them for
 * every mode). The interior of a row, columns left … left + W − 1, is one contiguous copy.
 */
export function pad(x: usize, y: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, left: i32,
  srcRow: usize, srcCol: usize, value: f32, tid: i32, nt: i32): void {
  const rows = planes * Ho;
  for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
    const oh = t % Ho, pl = t / Ho;
    const yr = y + (<usize>t * <usize>Wo << 2);
    const sr = load<i32>(srcRow + (<usize>oh << 2));
    if (sr < 0) {
      fillRow(yr, Wo, value);
      continue;
    }
    const xr = x + (<usize>((pl * H + sr) * W) << 2);
    for (let ow = 0; ow < left; ow++) edge(xr, yr, srcCol, ow, value);
    memory.copy(yr + (<usize>left << 2), xr, <usize>W << 2);
    for (let ow = left + W; ow < Wo; ow++) edge(xr, yr, srcCol, ow, value);
  }
}

@inline
function edge(xr: usize, yr: usize, srcCol: usize, ow: i32, value: f32): void {
  const sc = load<i32>(srcCol + (<usize>ow << 2));
  store<f32>(yr + (<usize>ow << 2), sc < 0 ? value : load<f32>(xr + (<usize>sc << 2)));
}

function fillRow(yr: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let j = 0;
  for (; j + 4 <= n; j += 4) v128.store(yr + (<usize>j << 2), v);
  for (; j < n; j++) store<f32>(yr + (<usize>j << 2), value);
}

/**
 * padGrad: one task per dx row of planes × H × W, so every dx element is summed by one thread in
 * one order. For each output row oh reading row h (rowIdx[rowPtr[h] … rowPtr[h + 1]), ascending),
 * the row's interior run dy[oh, left … left + W − 1] is added as a whole, then the extra columns
 * reading column w (colIdx[colPtr[w] … colPtr[w + 1])), which only edge columns have.
 */
export function padGrad(dy: usize, dx: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, left: i32,
  rowPtr: usize, rowIdx: usize, colPtr: usize, colIdx: usize, tid: i32, nt: i32): void {
  const rows = planes * H;
  const right = Wo - W - left;
  // Columns that can have extra sinks: 0 … left (reflect reaches column left) and W − 1 − right … W − 1.
  const lo = min(W, left + 1), hi = max(lo, W - 1 - right);
  for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
    const h = t % H, pl = t / H;
    const dr = dx + (<usize>t * <usize>W << 2);
    fillRow(dr, W, 0);
    const k1 = load<i32>(rowPtr + (<usize>(h + 1) << 2));
    for (let k = load<i32>(rowPtr + (<usize>h << 2)); k < k1; k++) {
      const oh = load<i32>(rowIdx + (<usize>k << 2));
      const gr = dy + (<usize>((pl * Ho + oh) * Wo) << 2);
      const gi = gr + (<usize>left << 2);
      let w = 0;
      for (; w + 4 <= W; w += 4) {
        const o = <usize>w << 2;
        v128.store(dr + o, f32x4.add(v128.load(dr + o), v128.load(gi + o)));
      }
      for (; w < W; w++) store<f32>(dr + (<usize>w << 2), load<f32>(dr + (<usize>w << 2)) + load<f32>(gi + (<usize>w << 2)));
      for (w = 0; w < lo; w++) addExtras(gr, dr, colPtr, colIdx, w);
      for (w = hi; w < W; w++) addExtras(gr, dr, colPtr, colIdx, w);
    }
  }
}

@inline
function addExtras(gr: usize, dr: usize, colPtr: usize, colIdx: usize, w: i32): void {
  const m1 = load<i32>(colPtr + (<usize>(w + 1) << 2));
  let m = load<i32>(colPtr + (<usize>w << 2));
  if (m >= m1) return;
  let acc = load<f32>(dr + (<usize>w << 2));
  for (; m < m1; m++) acc += load<f32>(gr + (<usize>load<i32>(colIdx + (<usize>m << 2)) << 2));
  store<f32>(dr + (<usize>w << 2), acc);
}
