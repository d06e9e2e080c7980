// Pooling of planes × H × W images (docs/ops/pooling.md): one invocation per output element
// (forward) or per dx element (backward, gathering the windows that hold it in ascending (oh, ow)).

// A window's divisor along one axis: clipped to the padded extent (includePad), else to the image.
fn divisor(o: i32, s: i32, k: i32, before: i32, size: i32, after: i32, includePad: i32) -> i32 {
  let start = o * s - before;
  if (includePad != 0) { return min(start + k, size + after) - start; }
  return min(start + k, size) - max(start, 0);
}

// First window along an axis that contains pixel i: ceil((i + before − k + 1) / s), at least 0.
fn firstWindow(i: i32, s: i32, k: i32, before: i32) -> i32 {
  let a = i + before - k + 1;
  if (a <= 0) { return 0; }
  return (a + s - 1) / s;
}

// (plane, row, column) of element i of planes × rows × cols images.
fn position(i: u32, rows: i32, cols: i32) -> vec3<i32> {
  let t = i32(i / u32(cols));
  return vec3<i32>(t / rows, t % rows, i32(i % u32(cols)));
}

// @kernel pool2d
struct P { n: u32, H: i32, W: i32, Ho: i32, Wo: i32, kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32, mode: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let at = position(i, p.Ho, p.Wo);
  let plane = at.x;
  let oh = at.y;
  let ow = at.z;
  let hs = oh * p.sh - p.top;
  let ws = ow * p.sw - p.left;
  let h0 = max(hs, 0);
  let h1 = min(hs + p.kh, p.H);
  let w0 = max(ws, 0);
  let w1 = min(ws + p.kw, p.W);
  let base = plane * p.H * p.W;
  var acc = select(0.0, x[base + h0 * p.W + w0], p.mode == 0u);
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      let v = x[base + h * p.W + w];
      if (p.mode == 0u) { acc = max(acc, v); } else { acc += v; }
    }
  }
  if (p.mode != 0u) {
    acc /= f32(divisor(oh, p.sh, p.kh, p.top, p.H, p.bottom, p.includePad) * divisor(ow, p.sw, p.kw, p.left, p.W, p.right, p.includePad));
  }
  y[i] = acc;
}

// @kernel maxPool2dGrad
struct P { n: u32, H: i32, W: i32, Ho: i32, Wo: i32, kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let at = position(i, p.H, p.W);
  let plane = at.x;
  let h = at.y;
  let w = at.z;
  let base = plane * p.H * p.W;
  let ohEnd = min(p.Ho - 1, (h + p.top) / p.sh);
  let owEnd = min(p.Wo - 1, (w + p.left) / p.sw);
  var acc = 0.0;
  for (var oh = firstWindow(h, p.sh, p.kh, p.top); oh <= ohEnd; oh++) {
    let hs = oh * p.sh - p.top;
    let h0 = max(hs, 0);
    let h1 = min(hs + p.kh, p.H);
    for (var ow = firstWindow(w, p.sw, p.kw, p.left); ow <= owEnd; ow++) {
      let ws = ow * p.sw - p.left;
      let w0 = max(ws, 0);
      let w1 = min(ws + p.kw, p.W);
      // The window's first maximum in row-major order (strict >), found again from x.
      var bh = h0;
      var bw = w0;
      var best = x[base + h0 * p.W + w0];
      for (var a = h0; a < h1; a++) {
        for (var b = w0; b < w1; b++) {
          let v = x[base + a * p.W + b];
          if (v > best) { best = v; bh = a; bw = b; }
        }
      }
      if (bh == h && bw == w) { acc += dy[(plane * p.Ho + oh) * p.Wo + ow]; }
    }
  }
  dx[i] = acc;
}

// @kernel avgPool2dGrad
struct P { n: u32, H: i32, W: i32, Ho: i32, Wo: i32, kh: i32, kw: i32, sh: i32, sw: i32, top: i32, left: i32, bottom: i32, right: i32, includePad: i32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatIndex(wid, nwg, lid);
  if (i >= p.n) { return; }
  let at = position(i, p.H, p.W);
  let plane = at.x;
  let h = at.y;
  let w = at.z;
  let ohEnd = min(p.Ho - 1, (h + p.top) / p.sh);
  let owEnd = min(p.Wo - 1, (w + p.left) / p.sw);
  var acc = 0.0;
  for (var oh = firstWindow(h, p.sh, p.kh, p.top); oh <= ohEnd; oh++) {
    let rd = divisor(oh, p.sh, p.kh, p.top, p.H, p.bottom, p.includePad);
    for (var ow = firstWindow(w, p.sw, p.kw, p.left); ow <= owEnd; ow++) {
      let cd = divisor(ow, p.sw, p.kw, p.left, p.W, p.right, p.includePad);
      acc += dy[(plane * p.Ho + oh) * p.Wo + ow] / f32(rd * cd);
    }
  }
  dx[i] = acc;
}
