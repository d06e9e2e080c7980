// flip: one invocation per output element of planes × H × W images.

// @kernel flip
struct P { n: u32, H: u32, W: u32, fh: u32, fw: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = i % p.W;
  let t = i / p.W;
  let h = t % p.H;
  let plane = t / p.H;
  let sh = select(h, p.H - 1u - h, p.fh != 0u);
  let sw = select(w, p.W - 1u - w, p.fw != 0u);
  y[i] = x[(plane * p.H + sh) * p.W + sw];
}
