// pad and its adjoint padGrad on planes × H × W images, one invocation per output element. The
// host builds an index table per call (src/ops/pad.ts), so the kernels know nothing of the modes.

// @kernel pad
// tab: the source row of each output row (Ho entries), then the source column of each output
// column (Wo entries); −1 reads the fill value.
struct P { n: u32, H: u32, W: u32, Ho: u32, Wo: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let ow = i % p.Wo;
  let t = i / p.Wo;
  let oh = t % p.Ho;
  let plane = t / p.Ho;
  let sr = tab[oh];
  let sc = tab[p.Ho + ow];
  if (sr < 0 || sc < 0) {
    y[i] = p.value;
  } else {
    y[i] = x[(plane * p.H + u32(sr)) * p.W + u32(sc)];
  }
}

// @kernel padGrad
// One invocation per dx element. tab: row offsets (H + 1) into the rows list at rowIdx0 (every
// output row reading row h), column offsets (W + 1) at colPtr0 into the list at colIdx0 (the
// output columns other than w + left reading column w). The sum order matches the wasm kernel's.
struct P { n: u32, H: u32, W: u32, Ho: u32, Wo: u32, left: u32, rowIdx0: u32, colPtr0: u32, colIdx0: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let w = i % p.W;
  let t = i / p.W;
  let h = t % p.H;
  let plane = t / p.H;
  let m0 = tab[p.colPtr0 + w];
  let m1 = tab[p.colPtr0 + w + 1u];
  var acc = 0.0;
  for (var k = tab[h]; k < tab[h + 1u]; k = k + 1) {
    let row = (plane * p.Ho + u32(tab[p.rowIdx0 + u32(k)])) * p.Wo;
    acc = acc + dy[row + w + p.left];
    for (var m = m0; m < m1; m = m + 1) {
      acc = acc + dy[row + u32(tab[p.colIdx0 + u32(m)])];
    }
  }
  dx[i] = acc;
}
