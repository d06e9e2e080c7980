/**
 * Allocator over wasm linear memory, owned by TypeScript (the kernels never allocate).
 * Size-bucketed free lists: a freed block is reused only for the same size class, so there is
 * no splitting or coalescing to get wrong. Blocks are 16-byte aligned for v128 loads.
 * A guard zone is kept past the highest block because kernels may over-read a few floats past
 * an input (into lanes they discard); the guard keeps those reads inside linear memory.
 */
const PAGE = 65536;
const GUARD = 64 * 1024;

/** Rounds up to a size class: multiples of 64 B up to 4 KiB, then four classes per power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return Math.ceil(b / 64) * 64;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 4;
  return Math.ceil(b / step) * step;
}

export class LinearAllocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();

  constructor(private readonly memory: WebAssembly.Memory, heapBase: number) {
    this.top = Math.ceil(heapBase / 64) * 64 + 64;
    this.ensure(this.top);
  }

  /** Byte offset of a block of at least `bytes`; call size() with the same bytes when freeing. */
  alloc(bytes: number): number {
    const cls = sizeClass(bytes);
    const list = this.freeLists.get(cls);
    if (list && list.length > 0) return list.pop()!;
    const ptr = this.top;
    this.ensure(ptr + cls);
    this.top = ptr + cls;
    return ptr;
  }

  free(ptr: number, bytes: number): void {
    const cls = sizeClass(bytes);
    let list = this.freeLists.get(cls);
    if (!list) this.freeLists.set(cls, (list = []));
    list.push(ptr);
  }

  /** Grows memory so [0, end + GUARD) is addressable. Views made before this may be stale. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    const need = end + GUARD;
    if (need <= have) return;
    // Grow by at least an eighth so that many small allocations do not grow page by page.
    const pages = Math.max(Math.ceil((need - have) / PAGE), Math.ceil(have / PAGE / 8));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(Math.ceil((need - have) / PAGE));
      } catch (e) {
        throw new Error(`wasm memory cannot grow to ${need} bytes: ${(e as Error).message}`);
      }
    }
  }

  get highWater(): number {
    return this.top;
  }
}
