// Space-to-depth by 2 (squeeze) and depth-to-space (unsqueeze): one invocation per output element.
// C, H, W are always the unsqueezed side's channels, height and width.

// @kernel squeeze
// C, H, W: the unsqueezed (input) shape. One invocation per output element (N, 4C, H/2, W/2).
struct P { n: u32, C: u32, H: u32, W: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let h2 = p.H / 2u;
  let w2 = p.W / 2u;
  let j = i % w2;
  var t = i / w2;
  let r = t % h2;
  t = t / h2;
  let cc = t % (4u * p.C);
  let nn = t / (4u * p.C);
  let c = cc / 4u;
  let dy = (cc % 4u) / 2u;
  let dx = cc % 2u;
  y[i] = x[((nn * p.C + c) * p.H + 2u * r + dy) * p.W + 2u * j + dx];
}

// @kernel unsqueeze
// C, H, W: the unsqueezed (output) shape. One invocation per output element (N, C, H, W).
struct P { n: u32, C: u32, H: u32, W: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = i % p.W;
  var t = i / p.W;
  let h = t % p.H;
  t = t / p.H;
  let c = t % p.C;
  let nn = t / p.C;
  let h2 = p.H / 2u;
  let w2 = p.W / 2u;
  y[i] = x[((nn * 4u * p.C + 4u * c + 2u * (h % 2u) + w % 2u) * h2 + h / 2u) * w2 + w / 2u];
}
