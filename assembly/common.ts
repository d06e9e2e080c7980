/** First element block of thread `tid` for static splits (the streaming elementwise kernels). */
@inline
export function partStart(total: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>total * <i64>tid) / <i64>nt);
}

/*
 * Task loops: `for (t = firstTask(total, nt); t < total; t = nextTask(t, total))`.
 * With several threads, tasks are claimed in chunks from a shared counter, so a thread the OS
 * wakes late (shared machines, background tabs) just finds fewer tasks left instead of delaying
 * the whole job by its share. Every task computes the same thing whoever runs it, so results do
 * not depend on the thread count or on who claimed what. Globals are per instance, hence per
 * thread; the counter lives in shared memory and the caller zeroes it before each job.
 */
let counterPtr: usize = 0;
let chunkEnd: i32 = 0;
let chunkSize: i32 = 1;

/** Where the shared task counter is (set once per instance; only the threaded module uses it). */
export function setTaskCounter(ptr: usize): void {
  counterPtr = ptr;
}

function claim(total: i32): i32 {
  let start: i32;
  if (ASC_FEATURE_THREADS) start = atomic.add<i32>(counterPtr, chunkSize);
  else start = total; // unreachable: the single-thread module always runs with nt = 1
  chunkEnd = min(total, start + chunkSize);
  return start;
}

export function firstTask(total: i32, nt: i32): i32 {
  if (nt <= 1) {
    chunkEnd = total;
    return 0;
  }
  // About 8 chunks per thread: fine enough to balance, coarse enough that a chunk's tasks share
  // data (conv reuses one padded image across consecutive tasks).
  chunkSize = max(1, total / (nt * 8));
  return claim(total);
}

@inline
export function nextTask(task: i32, total: i32): i32 {
  const t = task + 1;
  return t < chunkEnd ? t : t >= total ? total : claim(total);
}

/** Memory start for the TypeScript allocator: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
