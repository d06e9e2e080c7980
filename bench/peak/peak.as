// AssemblyScript source (the .as name keeps the root tsc away: it cannot type-check AS).
// An f32x4 mul+add loop with 12 independent chains: enough in flight to hide the mul→add latency,
// few enough (12 + 2 constants) to stay in the 16 xmm registers V8 uses, so the loop is bound by
// the SIMD ports, not by latency or memory. Each iteration is 12 × (4 mul + 4 add) = 96 flops.
export function chains12(iters: i32, m: f32, c: f32): f32 {
  const vm = f32x4.splat(m);
  const vc = f32x4.splat(c);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  let a8 = f32x4.splat(0.9), a9 = f32x4.splat(1.0), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, vm), vc); a1 = f32x4.add(f32x4.mul(a1, vm), vc);
    a2 = f32x4.add(f32x4.mul(a2, vm), vc); a3 = f32x4.add(f32x4.mul(a3, vm), vc);
    a4 = f32x4.add(f32x4.mul(a4, vm), vc); a5 = f32x4.add(f32x4.mul(a5, vm), vc);
    a6 = f32x4.add(f32x4.mul(a6, vm), vc); a7 = f32x4.add(f32x4.mul(a7, vm), vc);
    a8 = f32x4.add(f32x4.mul(a8, vm), vc); a9 = f32x4.add(f32x4.mul(a9, vm), vc);
    a10 = f32x4.add(f32x4.mul(a10, vm), vc); a11 = f32x4.add(f32x4.mul(a11, vm), vc);
  }
  // Summing every chain keeps the optimiser from dropping any of them.
  let s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// The same work as 6 mul-only and 6 add-only chains: no mul→add dependency, so it shows whether
// the ports, rather than latency, are what chains12 runs into.
export function split12(iters: i32, m: f32, c: f32): f32 {
  const vm = f32x4.splat(m);
  const vc = f32x4.splat(c);
  let p0 = f32x4.splat(0.1), p1 = f32x4.splat(0.2), p2 = f32x4.splat(0.3);
  let p3 = f32x4.splat(0.4), p4 = f32x4.splat(0.5), p5 = f32x4.splat(0.6);
  let q0 = f32x4.splat(0.7), q1 = f32x4.splat(0.8), q2 = f32x4.splat(0.9);
  let q3 = f32x4.splat(1.0), q4 = f32x4.splat(1.1), q5 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    p0 = f32x4.mul(p0, vm); q0 = f32x4.add(q0, vc); p1 = f32x4.mul(p1, vm); q1 = f32x4.add(q1, vc);
    p2 = f32x4.mul(p2, vm); q2 = f32x4.add(q2, vc); p3 = f32x4.mul(p3, vm); q3 = f32x4.add(q3, vc);
    p4 = f32x4.mul(p4, vm); q4 = f32x4.add(q4, vc); p5 = f32x4.mul(p5, vm); q5 = f32x4.add(q5, vc);
    p0 = f32x4.mul(p0, vm); q0 = f32x4.add(q0, vc); p1 = f32x4.mul(p1, vm); q1 = f32x4.add(q1, vc);
    p2 = f32x4.mul(p2, vm); q2 = f32x4.add(q2, vc); p3 = f32x4.mul(p3, vm); q3 = f32x4.add(q3, vc);
    p4 = f32x4.mul(p4, vm); q4 = f32x4.add(q4, vc); p5 = f32x4.mul(p5, vm); q5 = f32x4.add(q5, vc);
  }
  let s = f32x4.add(f32x4.add(f32x4.add(p0, p1), f32x4.add(p2, p3)), f32x4.add(f32x4.add(p4, p5), f32x4.add(q0, q1)));
  s = f32x4.add(s, f32x4.add(f32x4.add(q2, q3), f32x4.add(q4, q5)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
