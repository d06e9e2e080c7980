// Combining one value per invocation across a workgroup of 64 (the twin of a task's fixed-order
// loop on wasm): used by the reductions, softmax and normalisation kernels. A tree in workgroup
// memory, so a long reduction is not one serial loop.

var<workgroup> wgPart: array<vec2<f32>, 64>;

// Σ over the workgroup of v (componentwise), or the maximum when useMax; every invocation gets the
// result. Call from uniform control flow (it has barriers).
fn workgroupCombine(lid: u32, v: vec2<f32>, useMax: bool) -> vec2<f32> {
  wgPart[lid] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let a = wgPart[lid];
      let b = wgPart[lid + s];
      wgPart[lid] = select(a + b, max(a, b), useMax);
    }
    workgroupBarrier();
  }
  let r = wgPart[0];
  workgroupBarrier();
  return r;
}
