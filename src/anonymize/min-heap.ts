/**
 * A binary min-heap of integer items by a numeric key; equal keys leave in the order they came,
 * so a fast-marching fill is the same on every run and engine.
 */
export class MinHeap {
  private keys: number[] = [];
  private order: number[] = [];
  private items: number[] = [];
  private pushed = 0;

  get size(): number {
    return this.items.length;
  }

  push(item: number, key: number): void {
    this.keys.push(key);
    this.order.push(this.pushed++);
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** The item with the smallest key (the earliest pushed among equals); the heap must not be empty. */
  pop(): number {
    const top = this.items[0]!, last = this.items.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.order.pop();
    this.items.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  private less(a: number, b: number): boolean {
    return this.keys[a]! < this.keys[b]! || (this.keys[a] === this.keys[b] && this.order[a]! < this.order[b]!);
  }

  private swap(a: number, b: number): void {
    const k = this.keys, o = this.order, it = this.items;
    [k[a], k[b]] = [k[b]!, k[a]!];
    [o[a], o[b]] = [o[b]!, o[a]!];
    [it[a], it[b]] = [it[b]!, it[a]!];
  }
}
