/**
 * Splitting a batch into contiguous shards and putting per-shard results back together. Shards are
 * as equal as possible, the first ones one image larger when the batch does not divide; a shard is
 * never empty (fewer shards than images is the caller's check).
 */

/** [start, end) image ranges of `count` shards over a batch of n. */
export function shardRanges(n: number, count: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const base = Math.floor(n / count), extra = n % count;
  let start = 0;
  for (let s = 0; s < count; s++) {
    const size = base + (s < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

/** Rows [start, end) of a row-major batch whose images have `per` values each (a view, no copy). */
export function rows(values: Float32Array, per: number, [start, end]: [number, number]): Float32Array {
  return values.subarray(start * per, end * per);
}

/** Concatenates the shards' outputs in shard order. */
export function concatShards(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Σ over shards of each gradient, added in shard order whatever thread computed each shard, so a
 * run gives the same bits on 1 thread as on many (float32 addition is not associative).
 */
export function sumShardGrads(perShard: ReadonlyArray<readonly Float32Array[]>): Float32Array[] {
  const acc = perShard[0]!.map((g) => Float32Array.from(g));
  for (let s = 1; s < perShard.length; s++) {
    const grads = perShard[s]!;
    for (let i = 0; i < acc.length; i++) {
      const a = acc[i]!, g = grads[i]!;
      for (let j = 0; j < a.length; j++) a[j]! += g[j]!;
    }
  }
  return acc;
}
