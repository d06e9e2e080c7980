// The element of one input that output element i reads, over the six collapsed dims d0…d5 of
// src/ops/util/broadcast.ts (row-major) and that input's strides s0…s5 (0 along broadcast axes):
// the twin of rowOffset in assembly/util/elementwise.ts.
fn broadcastOffset(i: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
                   s0: u32, s1: u32, s2: u32, s3: u32, s4: u32, s5: u32) -> u32 {
  var t = i;
  var o = (t % d5) * s5;
  t = t / d5;
  o += (t % d4) * s4;
  t = t / d4;
  o += (t % d3) * s3;
  t = t / d3;
  o += (t % d2) * s2;
  t = t / d2;
  o += (t % d1) * s1;
  return o + (t / d1) * s0;
}
