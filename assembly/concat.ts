import { firstTask, nextTask } from './common';

/**
 * rows × rowLen floats from src (row stride srcStride) to dst (row stride dstStride): the copy
 * behind concat (one call per input) and slice. One task per row.
 */
export function copyRows(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, rowLen: i32, tid: i32, nt: i32): void {
  const bytes = <usize>rowLen << 2;
  for (let r = firstTask(rows, nt); r < rows; r = nextTask(r, rows)) {
    const s = src + (<usize>r * <usize>srcStride << 2), d = dst + (<usize>r * <usize>dstStride << 2);
    // Short rows (concat or slice along a late axis) cost more in memory.copy's call than in the copy.
    if (rowLen <= 4) for (let j: usize = 0; j < bytes; j += 4) store<f32>(d + j, load<f32>(s + j));
    else memory.copy(d, s, bytes);
  }
}
