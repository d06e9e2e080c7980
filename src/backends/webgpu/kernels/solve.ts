import type { SolveAttrs, View } from '../../backend.js';
import { uniform, type Dispatch, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { st } from './util.js';

/** 'auto' takes the workgroup tile when it fits; 'diagonal' forces the per-diagonal path (tests, benchmarks). */
export type SolvePath = 'auto' | 'diagonal';

/** Smallest tile compiled: tiles are rounded up to powers of two so few pipeline variants exist. */
const MIN_TILE = 256;

/** Floats of workgroup memory the tile kernel may use on this device. */
export const maxTileFloats = (device: GPUDevice): number => Math.floor(device.limits.maxComputeWorkgroupStorageSize / 4);

export function tileFloats(cg: number, h: number, w: number, device: GPUDevice): number | null {
  const need = cg * h * w;
  const max = maxTileFloats(device);
  if (need > max) return null;
  return Math.min(max, Math.max(MIN_TILE, 2 ** Math.ceil(Math.log2(Math.max(1, need)))));
}

/** Workgroup sizes of the tile kernel: the longest diagonal rounded up to a power of two, 4 … 64. */
const TILE_WORKGROUPS = [4, 8, 16, 32, 64] as const;
export const tileWorkgroup = (h: number, w: number): number =>
  TILE_WORKGROUPS.find((s) => s >= Math.min(h, w)) ?? 64;

export const solveTileShader = (transpose: boolean, tile: number, wg: number): string =>
  shader('solveTile', { TRANSPOSE: String(transpose), TILE: `${tile}u`, WG: String(wg) });

export const solveDiagonalShader = (transpose: boolean): string =>
  shader('solveDiagonal', { TRANSPOSE: String(transpose), TILE: '1u' });

/** The tile sizes a device can compile, for warmup(). */
export function allSolveShaders(device: GPUDevice): string[] {
  const out = [solveDiagonalShader(false), solveDiagonalShader(true)];
  for (let t = MIN_TILE; t <= maxTileFloats(device); t *= 2)
    for (const wg of TILE_WORKGROUPS) out.push(solveTileShader(false, t, wg), solveTileShader(true, t, wg));
  return out;
}

/**
 * solve (transpose = false) and solveTranspose (true). Both algorithms of the contract run the
 * wavefront here (see wgsl/solve.wgsl): one dispatch when the Cg×H×W tile fits in workgroup memory,
 * otherwise one dispatch per anti-diagonal, all inside one compute pass.
 */
export function solve(rt: Runtime, path: SolvePath, transpose: boolean, inputs: readonly View[], out: View,
  attrs: SolveAttrs): void {
  const [y, kern] = inputs as [View, View];
  const [N, C, H, W] = y.shape as [number, number, number, number];
  if (N * C * H * W === 0) return;
  const groups = attrs.groups;
  const Cg = C / groups;
  const k = kern.shape[2]!;
  const jobs = N * groups;
  const flips = rt.temporary(Uint32Array.from({ length: groups }, (_, g) => attrs.flips[g] ?? 0));
  const bindings = [st(y), st(kern), flips, st(out)];
  const head = [N, C, H, W, Cg, k, groups, attrs.unitDiag ? 1 : 0];
  const name = transpose ? 'solveTranspose' : 'solve';
  const tile = path === 'diagonal' ? null : tileFloats(Cg, H, W, rt.device);
  if (tile !== null) {
    rt.run(solveTileShader(transpose, tile, tileWorkgroup(H, W)), `${name} tile`, [{ params: uniform([...head, 0, jobs]), bindings, workgroups: jobs }]);
    return;
  }
  const dispatches: Dispatch[] = [];
  const last = H + W - 2;
  for (let s = 0; s <= last; s++) {
    const d = transpose ? last - s : s;
    const len = Math.min(d, H - 1) - Math.max(0, d - W + 1) + 1;
    dispatches.push({ params: uniform([...head, d, jobs]), bindings, workgroups: Math.ceil((jobs * len) / 64) });
  }
  rt.run(solveDiagonalShader(transpose), `${name} per diagonal`, dispatches);
}
