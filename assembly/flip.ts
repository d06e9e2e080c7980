import { firstTask, nextTask } from './common';

/** Reverses rows (fh) and/or columns (fw) of planes × H × W images; one task per output row. */
export function flip(x: usize, y: usize, planes: i32, H: i32, W: i32, fh: i32, fw: i32, tid: i32, nt: i32): void {
  const rows = planes * H;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const h = r % H, p = r / H;
    const src = x + (<usize>((p * H + (fh ? H - 1 - h : h)) * W) << 2);
    const dst = y + (<usize>(r * W) << 2);
    if (!fw) { memory.copy(dst, src, <usize>W << 2); continue; }
    for (let w = 0; w < W; w++) store<f32>(dst + (<usize>w << 2), load<f32>(src + (<usize>(W - 1 - w) << 2)));
  }
}
