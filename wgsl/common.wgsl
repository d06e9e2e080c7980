// Prepended to every kernel module (the twin of assembly/common.ts).

// A 2-D grid of 64-invocation workgroups, so more than 65535 workgroups can be launched.
fn flatIndex(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 64u + lid;
}
