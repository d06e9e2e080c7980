import { firstTask, nextTask } from './common';

/** rows × rowLen floats from src (row stride srcStride) to dst (row stride dstStride): concat and slice. */
export function copyRows(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, rowLen: i32, tid: i32, nt: i32): void {
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows))
    memory.copy(dst + (<usize>(r * dstStride) << 2), src + (<usize>(r * srcStride) << 2), <usize>rowLen << 2);
}

/**
 * Space-to-depth between x (N,C,H,W) and s (N,4C,H/2,W/2); toSqueezed picks the direction,
 * so squeeze and unsqueeze share one index map and stay exact inverses.
 */
function squeezeMap(x: usize, s: usize, N: i32, C: i32, H: i32, W: i32, toSqueezed: bool, tid: i32, nt: i32): void {
  const h2 = H >> 1, w2 = W >> 1;
  const planes = N * C;
  for (let pl = firstTask(planes, nt); pl < planes; pl = nextTask(pl, planes)) {
    for (let d = 0; d < 4; d++) {
      const dy = d >> 1, dx = d & 1;
      const sp = s + (<usize>((pl * 4 + d) * h2 * w2) << 2);
      for (let i = 0; i < h2; i++) {
        const xr = x + (<usize>((pl * H + 2 * i + dy) * W + dx) << 2);
        const sr = sp + (<usize>(i * w2) << 2);
        if (toSqueezed) for (let j = 0; j < w2; j++) store<f32>(sr + (<usize>j << 2), load<f32>(xr + (<usize>j << 3)));
        else for (let j = 0; j < w2; j++) store<f32>(xr + (<usize>j << 3), load<f32>(sr + (<usize>j << 2)));
      }
    }
  }
}

export function squeeze(x: usize, y: usize, N: i32, C: i32, H: i32, W: i32, tid: i32, nt: i32): void {
  squeezeMap(x, y, N, C, H, W, true, tid, nt);
}

/** N, C, H, W are the shape of the unsqueezed output y. */
export function unsqueeze(x: usize, y: usize, N: i32, C: i32, H: i32, W: i32, tid: i32, nt: i32): void {
  squeezeMap(y, x, N, C, H, W, false, tid, nt);
}
