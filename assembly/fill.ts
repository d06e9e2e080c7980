import { firstTask, nextTask } from './common';
import { CHUNK } from './util/elementwise';

/** y[0…n) = value, in tasks of CHUNK elements. */
export function fill(y: usize, n: i32, value: f32, tid: i32, nt: i32): void {
  const v = f32x4.splat(value);
  const tasks = (n + CHUNK - 1) / CHUNK;
  for (let t = firstTask(tasks, nt); t < tasks; t = nextTask(t, tasks)) {
    const end = min(t * CHUNK + CHUNK, n);
    let i = t * CHUNK;
    for (; i + 4 <= end; i += 4) v128.store(y + (<usize>i << 2), v);
    for (; i < end; i++) store<f32>(y + (<usize>i << 2), value);
  }
}
