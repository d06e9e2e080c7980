// where: y = cond ≠ 0 ? a : b with numpy broadcasting of all three, one invocation per output element.
// @include util/broadcast.wgsl

// @kernel where
struct P {
  n: u32, d0: u32, d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  sc0: u32, sc1: u32, sc2: u32, sc3: u32, sc4: u32, sc5: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32, sa4: u32, sa5: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32, sb4: u32, sb5: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let ic = broadcastOffset(i, p.d1, p.d2, p.d3, p.d4, p.d5, p.sc0, p.sc1, p.sc2, p.sc3, p.sc4, p.sc5);
  let ia = broadcastOffset(i, p.d1, p.d2, p.d3, p.d4, p.d5, p.sa0, p.sa1, p.sa2, p.sa3, p.sa4, p.sa5);
  let ib = broadcastOffset(i, p.d1, p.d2, p.d3, p.d4, p.d5, p.sb0, p.sb1, p.sb2, p.sb3, p.sb4, p.sb5);
  y[i] = select(b[ib], a[ia], c[ic] != 0.0);
}
