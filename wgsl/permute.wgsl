// permute: one invocation per output element. The host reduces the permutation (size-1 axes
// dropped, axes adjacent in both layouts merged) and pads it to rank 6: d are the output's
// dimensions (d0 is implied by n), s the input stride of each output axis.

// @kernel permute
struct P { n: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32, s0: u32, s1: u32, s2: u32, s3: u32, s4: u32, s5: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  var t = i;
  let i5 = t % p.d5;
  t = t / p.d5;
  let i4 = t % p.d4;
  t = t / p.d4;
  let i3 = t % p.d3;
  t = t / p.d3;
  let i2 = t % p.d2;
  t = t / p.d2;
  let i1 = t % p.d1;
  let i0 = t / p.d1;
  y[i] = x[i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3 + i4 * p.s4 + i5 * p.s5];
}
