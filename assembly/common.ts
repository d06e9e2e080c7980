/** First task of thread `tid`: contiguous blocks, so which thread runs a task never changes its result. */
@inline
export function partStart(total: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>total * <i64>tid) / <i64>nt);
}

/** Memory start for the TypeScript allocator: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
