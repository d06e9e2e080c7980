import { firstTask, nextTask } from './common';

/**
 * Space-to-depth by 2 between u (N, C, H, W) and s (N, 4C, H/2, W/2); toSqueezed picks the
 * direction, so squeeze and unsqueeze share one index map and stay exact inverses. One task per
 * row i of a squeezed plane: it moves rows 2i and 2i + 1 of u, each split into its even columns
 * (channel 4c + 2dy) and odd columns (channel 4c + 2dy + 1).
 */
function spaceToDepth(u: usize, s: usize, N: i32, C: i32, H: i32, W: i32, toSqueezed: bool, tid: i32, nt: i32): void {
  const h2 = H >> 1, w2 = W >> 1;
  const rows = N * C * h2;
  const planeBytes = <usize>(h2 * w2) << 2;
  for (let t = firstTask(rows, nt); t < rows; t = nextTask(t, rows)) {
    const pl = t / h2, i = t % h2;
    for (let dy = 0; dy < 2; dy++) {
      const ur = u + (<usize>((pl * H + 2 * i + dy) * W) << 2);
      const even = s + (<usize>(((pl * 4 + 2 * dy) * h2 + i) * w2) << 2);
      const odd = even + planeBytes;
      if (toSqueezed) deinterleave(ur, even, odd, w2);
      else interleave(even, odd, ur, w2);
    }
  }
}

/** even[j] = src[2j], odd[j] = src[2j + 1] for j < n. */
@inline
function deinterleave(src: usize, even: usize, odd: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const p = src + (<usize>j << 3);
    const a = v128.load(p), b = v128.load(p, 16);
    v128.store(even + (<usize>j << 2), i32x4.shuffle(a, b, 0, 2, 4, 6));
    v128.store(odd + (<usize>j << 2), i32x4.shuffle(a, b, 1, 3, 5, 7));
  }
  for (; j < n; j++) {
    store<f32>(even + (<usize>j << 2), load<f32>(src + (<usize>j << 3)));
    store<f32>(odd + (<usize>j << 2), load<f32>(src + (<usize>j << 3), 4));
  }
}

/** dst[2j] = even[j], dst[2j + 1] = odd[j] for j < n. */
@inline
function interleave(even: usize, odd: usize, dst: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const a = v128.load(even + (<usize>j << 2)), b = v128.load(odd + (<usize>j << 2));
    const p = dst + (<usize>j << 3);
    v128.store(p, i32x4.shuffle(a, b, 0, 4, 1, 5));
    v128.store(p, i32x4.shuffle(a, b, 2, 6, 3, 7), 16);
  }
  for (; j < n; j++) {
    store<f32>(dst + (<usize>j << 3), load<f32>(even + (<usize>j << 2)));
    store<f32>(dst + (<usize>j << 3), load<f32>(odd + (<usize>j << 2)), 4);
  }
}

/** x (N, C, H, W) → y (N, 4C, H/2, W/2). */
export function squeeze(x: usize, y: usize, N: i32, C: i32, H: i32, W: i32, tid: i32, nt: i32): void {
  spaceToDepth(x, y, N, C, H, W, true, tid, nt);
}

/** x (N, 4C, H/2, W/2) → y (N, C, H, W); N, C, H, W are the output's shape. */
export function unsqueeze(x: usize, y: usize, N: i32, C: i32, H: i32, W: i32, tid: i32, nt: i32): void {
  spaceToDepth(y, x, N, C, H, W, false, tid, nt);
}
