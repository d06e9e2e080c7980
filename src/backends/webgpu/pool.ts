/**
 * Size-bucketed GPU buffer pool. Buckets are powers of two up to 1 MiB, then eighths of a power of
 * two (at most 12.5 % waste), so a buffer freed by one tensor fits the next tensor of similar size.
 * The pool itself knows nothing about submits: the runtime hands a buffer back only once the
 * submit that last used it has been made (see runtime.ts).
 */
export function bucketBytes(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  const pow = 2 ** Math.ceil(Math.log2(b));
  if (pow <= 1 << 20) return pow;
  const step = pow / 8;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Every buffer this pool created and has not destroyed, pooled or handed out. */
  private readonly all = new Set<GPUBuffer>();
  pooledBytes = 0;

  constructor(private readonly device: GPUDevice, private readonly usage: GPUBufferUsageFlags, private readonly label: string) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytes -= size;
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label} ${size}` });
    this.all.add(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.pooledBytes += size;
  }

  destroyAll(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.clear();
    this.pooledBytes = 0;
  }

  get created(): number {
    return this.all.size;
  }
}
