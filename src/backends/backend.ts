/**
 * The kernel contract every backend implements.
 *
 * Kernels are pure: they read input buffers and write one pre-allocated output buffer.
 * The engine validates shapes, allocates the output, and normalises shapes before calling a kernel,
 * so a kernel never needs to check its arguments. Gradients are written once, in src/engine/ops,
 * in terms of these kernels, so every backend gets the same gradient rules.
 *
 * Layout: float32 (float64 on the reference backend, the oracle), row-major, NCHW. Shapes handed to kernels are already normalised:
 *  - unary / binary / reduce / concat / slice / fill: rank 4 exactly (leading 1s added);
 *  - conv / flip / squeeze / solve: rank 4 [N, C, H, W];
 *  - matmul: rank 3 [batch, rows, cols].
 */

export type BackendName = 'reference' | 'wasm' | 'webgpu';

/** Opaque handle to backend memory holding `numel` float32 values. */
export interface Storage {
  readonly numel: number;
}

/** A buffer plus the (normalised) shape the kernel should see it as. */
export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
}

export interface Pad4 {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export type UnaryFn =
  | 'neg' | 'exp' | 'log' | 'sigmoid' | 'tanh' | 'relu' | 'softplus' | 'square' | 'sqrt'
  | 'abs' | 'sign' | 'step' | 'reciprocal'
  /** y = alpha * x + beta: the scalar ops (add / sub / mul by a scalar). */
  | 'affine';

/** 'eq' and 'gt' produce 1 or 0. */
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'eq' | 'gt';

export type ReduceFn = 'sum' | 'mean' | 'sumSquares' | 'max';

/**
 * Attributes of each kernel. Semantics (x = input, y = output, all indices zero-based):
 *
 * conv2d           inputs [x (N,Ci,H,W), w (Co, Ci/groups, kh, kw), bias? (Co)] → y (N,Co,Ho,Wo)
 *                  Ho = H + top + bottom − kh + 1, Wo = W + left + right − kw + 1, stride 1.
 *                  y[n,o,p,q] = bias[o] + Σ_i Σ_a Σ_b w[o,i,a,b] · x[n, g·Cig + i, p + a − top, q + b − left]
 *                  where g = floor(o / (Co/groups)), Cig = Ci/groups, x = 0 outside the image.
 * conv2dGradInput  inputs [dy (N,Co,Ho,Wo), w] → dx (N,Ci,H,W): the adjoint of conv2d in x.
 * conv2dGradFilter inputs [x, dy] → dw (Co, Ci/groups, kh, kw): the adjoint of conv2d in w.
 *                  (The bias gradient is a plain reduce over N, H, W.)
 * matmul           inputs [a, b] → y (B, M, N). a is (Ba, M, K), or (Ba, K, M) when transposeA;
 *                  b is (Bb, K, N), or (Bb, N, K) when transposeB. Ba, Bb ∈ {1, B} (batch broadcast).
 * unary            inputs [x] → y, same shape. alpha/beta only for 'affine'.
 * binary           inputs [a, b] → y. Numpy broadcasting: for each axis, a dim of 1 is broadcast.
 * reduce           inputs [x] → y with the listed axes set to 1 (keepdims). 'max' of an empty
 *                  range never happens (the engine refuses zero-size axes).
 * concat           inputs [x0, x1, ...] → y, joined along `axis` (all other dims equal).
 * slice            inputs [x] → y = x[..., start : start + y.shape[axis], ...] along `axis`.
 * squeeze          inputs [x (N,C,H,W)] → y (N, 4C, H/2, W/2), y[n, 4c + 2dy + dx, i, j] = x[n, c, 2i + dy, 2j + dx].
 * unsqueeze        the exact inverse of squeeze.
 * fill             no inputs → y filled with value.
 * solve            inputs [y (N,C,H,W), K (C, Cg, k, k)] → x (N,C,H,W), C = groups · Cg, k ≥ 1.
 *                  Per group g (channels g·Cg … g·Cg+Cg−1, K rows likewise, K[·, i] = input channel g·Cg+i):
 *                  T_g is the TL-padded convolution y[c,h,w] = Σ_{i,a,b} K[c,i,a,b] · x[i, h+a−k+1, w+b−k+1]
 *                  whose centre tap (a,b) = (k−1,k−1) is masked to the lower triangle: only i < c is
 *                  read there, the diagonal is K[c, c−g·Cg, k−1, k−1] (or exactly 1 when unitDiag),
 *                  and entries with i > c are ignored whatever they hold.
 *                  flips[g] (bit 0 = W, bit 1 = H) reaches the other corners: x_g = F T_g⁻¹ F y_g,
 *                  F = flip of the image along the flagged axes (TR = 1, BL = 2, BR = 3).
 *                  algorithm 'wavefront' runs anti-diagonals h + w = d in order (parallel inside one);
 *                  'raster' is plain sequential raster-order substitution (the benchmark baseline).
 *                  Both must give the same result.
 * solveTranspose   inputs [g (N,C,H,W), K] → gy = F T_g⁻ᵀ F g per group: the reverse wavefront with the
 *                  transposed kernel (docs/inverse.md §5). Same attributes as solve.
 */
export interface KernelAttrs {
  conv2d: { pad: Pad4; groups: number; hasBias: boolean };
  conv2dGradInput: { pad: Pad4; groups: number };
  conv2dGradFilter: { pad: Pad4; groups: number };
  matmul: { transposeA: boolean; transposeB: boolean };
  unary: { fn: UnaryFn; alpha: number; beta: number };
  binary: { fn: BinaryFn };
  reduce: { fn: ReduceFn; axes: readonly number[] };
  concat: { axis: number };
  slice: { axis: number; start: number };
  squeeze: Record<string, never>;
  unsqueeze: Record<string, never>;
  fill: { value: number };
  solve: SolveAttrs;
  solveTranspose: SolveAttrs;
}

export interface SolveAttrs {
  groups: number;
  unitDiag: boolean;
  flips: readonly number[];
  algorithm: 'wavefront' | 'raster';
}

export type KernelName = keyof KernelAttrs;

export type Kernel<K extends KernelName> = (inputs: readonly View[], output: View, attrs: KernelAttrs[K]) => void;

/** The kernels written before op files (src/engine/ops), typed by name. */
export type KernelTable = { [K in KernelName]: Kernel<K> };

/** Any kernel by name: the typed table plus every kernel of the op registry (src/ops/*.ts). */
export type AnyKernel = (inputs: readonly View[], output: View, attrs: any) => void;
export type KernelTableWithOps = KernelTable & { readonly [name: string]: AnyKernel };

export interface MemoryInfo {
  buffers: number;
  bytes: number;
}

export interface BackendInfo {
  name: BackendName;
  /** Free text facts: adapter, SIMD, threads. */
  details: Record<string, unknown>;
}

export interface Backend {
  readonly name: BackendName;
  readonly kernels: KernelTableWithOps;
  /**
   * Capability check: null when the backend can run this kernel at these shapes, otherwise the reason.
   * The dispatcher asks before calling, so kernels never have to throw for unsupported shapes.
   */
  supports?(op: string, inputs: readonly View[], output: View, attrs: unknown): string | null;
  alloc(numel: number): Storage;
  free(s: Storage): void;
  /** Float64 data is rounded to float32, except on reference, which stores float64. */
  write(s: Storage, data: Float32Array | Float64Array): void;
  read(s: Storage): Promise<Float32Array>;
  /** Synchronous read where the backend can (reference, wasm); undefined otherwise. */
  readSync?(s: Storage): Float32Array;
  /** Exact float64 contents (reference only): the oracle's own precision for gradient checks. */
  read64?(s: Storage): Float64Array;
  memory(): MemoryInfo;
  info(): BackendInfo;
  /** Submit queued work (webgpu); a no-op elsewhere. */
  flush(): void;
  dispose(): void;
}
