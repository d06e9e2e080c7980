// Elementwise kernels: unary, binary (rank-4 broadcast), fill. One invocation per output element.
// Sections start at "// @kernel NAME"; each is compiled together with this prelude.
// {{UNARY}} / {{BINARY}} are replaced by the host with the function body (see kernels/elementwise.ts).

// @kernel unary
struct P { n: u32, alpha: f32, beta: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn f(v: f32) -> f32 {
  return {{UNARY}};
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = f(x[i]);
}

// @kernel binary
// sa*/sb*: strides of a and b broadcast to the output shape (0 along broadcast axes).
struct P { n: u32, d1: u32, d2: u32, d3: u32, sa0: u32, sa1: u32, sa2: u32, sa3: u32, sb0: u32, sb1: u32, sb2: u32, sb3: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

fn f(u: f32, v: f32) -> f32 {
  return {{BINARY}};
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let i3 = i % p.d3;
  var t = i / p.d3;
  let i2 = t % p.d2;
  t = t / p.d2;
  let i1 = t % p.d1;
  let i0 = t / p.d1;
  let ia = i0 * p.sa0 + i1 * p.sa1 + i2 * p.sa2 + i3 * p.sa3;
  let ib = i0 * p.sb0 + i1 * p.sb1 + i2 * p.sb2 + i3 * p.sb3;
  y[i] = f(a[ia], b[ib]);
}

// @kernel fill
struct P { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = p.value;
}
