// Philox-4x32-10: the twin of src/ops/util/philox.ts and assembly/util/philox.ts
// (docs/ops/random.md). WGSL has no 64-bit integers, so the high word of a 32×32-bit product is
// assembled from 16-bit halves.

// (high, low) words of a·b.
fn philoxMul(a: u32, b: u32) -> vec2<u32> {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return vec2<u32>(ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u), a * b);
}

// The Philox block at counter c under key k.
fn philox(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  var x = c;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key += vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let p0 = philoxMul(0xd2511f53u, x.x);
    let p1 = philoxMul(0xcd9e8d57u, x.z);
    x = vec4<u32>(p1.x ^ x.y ^ key.x, p1.y, p0.x ^ x.w ^ key.y, p0.y);
  }
  return x;
}

// The uniform in [0, 1) of a word: its top 24 bits times 2^-24, exact in f32.
fn uniformOf(w: u32) -> f32 {
  return f32(w >> 8u) * 5.9604644775390625e-8;
}
