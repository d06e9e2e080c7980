import { buf } from '../backends/reference/storage.js';
import type { View } from '../backends/backend.js';
import { ceil8, withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel, type GpuContext, type GpuVariant, type WasmContext, type WgslKernel } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * Scaled dot-product attention, one op: y[b, i] = Σ_j softmax_j(scale · q[b, i]·k[b, j] + mask[i, j]) v[b, j]
 * (docs/ops/attention.md). No kernel materialises the Nq × Nk score matrix: the forward runs an
 * online softmax over blocks of keys, and the backward recomputes the probabilities from the
 * per-row logsumexp (flash-attention style), one kernel per gradient.
 */
export interface AttentionOptions {
  /** Additive mask [Nq, Nk] (shared by the batch) or [B, Nq, Nk]: finite values or −∞. No gradient. */
  mask?: Tensor;
  /** Query i sees keys j ≤ i only (top-left aligned when Nq ≠ Nk, as PyTorch's is_causal). */
  causal?: boolean;
  /** Multiplies q·k; default 1/√d. */
  scale?: number;
}

export interface AttentionAttrs {
  scale: number;
  causal: boolean;
  /** none: no mask input; shared: [Nq, Nk] for every batch entry; batched: [B, Nq, Nk]. */
  mask: 'none' | 'shared' | 'batched';
}

// ---- contracts --------------------------------------------------------------------------------

/** Forward (stats 0: y [B, Nq, dv]) and its per-row logsumexp (stats 1: y [B, Nq]) share one kernel. */
const wasmForward = wasmExport('attention', {
  q: 'ptr', k: 'ptr', v: 'ptr', mask: 'ptr', y: 'ptr', B: 'i32', Nq: 'i32', Nk: 'i32', d: 'i32', dv: 'i32',
  scale: 'f32', maskBatch: 'i32', hasMask: 'i32', causal: 'i32', stats: 'i32', scratch: 'ptr', perThread: 'i32',
});
const wasmGradQ = wasmExport('attentionGradQ', {
  q: 'ptr', k: 'ptr', v: 'ptr', dy: 'ptr', lse: 'ptr', o: 'ptr', mask: 'ptr', y: 'ptr', B: 'i32', Nq: 'i32', Nk: 'i32',
  d: 'i32', dv: 'i32', scale: 'f32', maskBatch: 'i32', hasMask: 'i32', causal: 'i32', scratch: 'ptr', perThread: 'i32',
});
/** dK (wantV 0) and dV (wantV 1) walk the same recomputed probabilities, key block by key block. */
const wasmGradKV = wasmExport('attentionGradKV', {
  q: 'ptr', k: 'ptr', v: 'ptr', dy: 'ptr', lse: 'ptr', o: 'ptr', mask: 'ptr', y: 'ptr', B: 'i32', Nq: 'i32', Nk: 'i32',
  d: 'i32', dv: 'i32', scale: 'f32', maskBatch: 'i32', hasMask: 'i32', causal: 'i32', wantV: 'i32', scratch: 'ptr',
  perThread: 'i32',
});

const common = {
  B: 'u32', Nq: 'u32', Nk: 'u32', d: 'u32', dv: 'u32', scale: 'f32', negInf: 'f32', maskBatch: 'u32', hasMask: 'u32',
  causal: 'u32',
} as const;
const gpuForward = wgslKernel('attention', { ...common, stats: 'u32', tile: 'u32', blocks: 'u32' }, ['DMAX']);
const gpuGradQ = wgslKernel('attentionGradQ', { ...common, tile: 'u32', blocks: 'u32' }, ['DMAX']);
const gpuGradKV = wgslKernel('attentionGradKV', { ...common, wantV: 'u32', tile: 'u32', blocks: 'u32' }, ['DMAX']);

// ---- shared shape bookkeeping -----------------------------------------------------------------

interface Dims { B: number; Nq: number; Nk: number; d: number; dv: number; maskBatch: number }

/** q [B, Nq, d] and k [B, Nk, d] are always inputs 0 and 1; v's width comes from wherever it is known. */
function dims(q: View, k: View, dv: number, attrs: AttentionAttrs): Dims {
  const [B, Nq, d] = q.shape as [number, number, number];
  const Nk = k.shape[1]!;
  return { B, Nq, Nk, d, dv, maskBatch: attrs.mask === 'batched' ? Nq * Nk : 0 };
}

// wasm blocking, mirrored from assembly/attention.ts: query rows per task (forward, dQ), keys per
// inner block (forward, dQ); keys per task and query rows per inner block (dK, dV).
const QB = 16, KB = 64, KK = 16, QI = 64;

/** Per-thread scratch floats of each wasm kernel, laid out as assembly/attention.ts lays them out. */
const scratchFloats = {
  forward: ({ d, dv }: Dims) => QB * (d + KB + ceil8(dv) + 3) + KB * 8,
  gradQ: ({ d, dv }: Dims) => QB * (d + dv + 2 * KB + ceil8(d) + 2) + KB * 8,
  gradKV: ({ d, dv }: Dims, wantV: boolean) => KK * (d + dv + 2 * QI + ceil8(wantV ? dv : d)) + QI * 8,
};

function wasmCall(ctx: WasmContext, perThread: number, call: (scratch: number) => void): void {
  withScratch(ctx, [ctx.threads * perThread], ([scratch]) => call(scratch!));
}

/** The scalars every wasm export and WGSL uniform block starts from. */
const shapeArgs = (g: Dims, attrs: AttentionAttrs) => ({
  B: g.B, Nq: g.Nq, Nk: g.Nk, d: g.d, dv: g.dv, scale: attrs.scale, maskBatch: g.maskBatch,
  hasMask: attrs.mask === 'none' ? 0 : 1, causal: +attrs.causal,
});

/** Pointers of the backward kernels' inputs [q, k, v, dy, lse, o, mask?] and output; without a mask q stands in, unread. */
const backwardPointers = (ctx: WasmContext, [q, k, v, dy, lse, o, mask]: readonly View[], out: View) => ({
  q: ctx.ptr(q!.storage), k: ctx.ptr(k!.storage), v: ctx.ptr(v!.storage), dy: ctx.ptr(dy!.storage), lse: ctx.ptr(lse!.storage),
  o: ctx.ptr(o!.storage), mask: ctx.ptr((mask ?? q!).storage), y: ctx.ptr(out.storage),
});

/** The forward export: y (v given) or the rows' logsumexp (v null: k stands in for it, unread). */
function forwardWasm(ctx: WasmContext, q: View, k: View, v: View | null, mask: View | undefined, out: View, attrs: AttentionAttrs): void {
  const g = dims(q, k, v ? v.shape[2]! : 0, attrs), perThread = scratchFloats.forward(g);
  wasmCall(ctx, perThread, (scratch) => ctx.call(wasmForward, {
    q: ctx.ptr(q.storage), k: ctx.ptr(k.storage), v: ctx.ptr((v ?? k).storage), mask: ctx.ptr((mask ?? q).storage),
    y: ctx.ptr(out.storage), ...shapeArgs(g, attrs), stats: v ? 0 : 1, scratch, perThread,
  }, 2 * g.B * g.Nq * g.Nk * (g.d + g.dv)));
}

// WebGPU: 64 query (or key) rows per workgroup, one per invocation; tiles of the other side's rows
// share TILE floats of workgroup memory (+ 128 for the dK/dV kernel's logsumexp and D rows, 15.5 KiB
// in all, under the 16 KiB every device offers). Head widths beyond the largest private array are refused.
const TILE = 3840;
const DMAXES = [16, 64, 256] as const;
const dmax = (d: number, dv: number): string => String(DMAXES.find((m) => m >= Math.max(d, dv)) ?? 0);
const tileRows = (d: number, dv: number): number => Math.min(64, Math.floor(TILE / (d + dv)));
/** Head widths (d of q and k, dv of v) past the widest private array are refused, naming the limit. */
const gpuSupports = (d: number, dv: number): string | null => {
  const widest = DMAXES[DMAXES.length - 1]!;
  return Math.max(d, dv) > widest ? `head width ${Math.max(d, dv)} exceeds ${widest}, the widest the WebGPU kernels hold per row` : null;
};
/** For every kernel whose inputs start [q, k, v]. */
const widthsFit = ([q, , v]: readonly View[]): string | null => gpuSupports(q!.shape[2]!, v!.shape[2]!);
const gpuParams = (g: Dims, attrs: AttentionAttrs, rows: number) =>
  ({ ...shapeArgs(g, attrs), negInf: -Infinity, tile: tileRows(g.d, g.dv), blocks: Math.ceil(rows / 64) });
const variantsOf = (kernel: WgslKernel) => (): GpuVariant[] => DMAXES.map((m) => ({ kernel, subs: { DMAX: String(m) } }));
const subsOf = (g: Dims) => ({ subs: { DMAX: dmax(g.d, g.dv) } });

/** The forward kernel: y (v given) or the logsumexp (v null: k stands in for its binding, unread). */
function forwardGpu(ctx: GpuContext, q: View, k: View, v: View | null, mask: View | undefined, out: View, attrs: AttentionAttrs): void {
  const g = dims(q, k, v ? v.shape[2]! : 0, attrs), p = gpuParams(g, attrs, g.Nq);
  ctx.dispatch(gpuForward, [{
    params: { ...p, stats: v ? 0 : 1 }, bindings: [q, k, v ?? k, mask ?? q, out].map((b) => b.storage), workgroups: g.B * p.blocks,
  }], subsOf(g));
}

/** dq (wantV null) or dk / dv over inputs [q, k, v, dy, lse, o, mask?], one workgroup per 64 owned rows. */
function backwardGpu(ctx: GpuContext, inputs: readonly View[], out: View, attrs: AttentionAttrs, wantV: boolean | null): void {
  const [q, k, v, dy, lse, o, mask] = inputs;
  const g = dims(q!, k!, v!.shape[2]!, attrs), p = gpuParams(g, attrs, wantV === null ? g.Nq : g.Nk);
  const bindings = [q!, k!, v!, dy!, lse!, o!, mask ?? q!, out].map((b) => b.storage), workgroups = g.B * p.blocks;
  if (wantV === null) ctx.dispatch(gpuGradQ, [{ params: p, bindings, workgroups }], subsOf(g));
  else ctx.dispatch(gpuGradKV, [{ params: { ...p, wantV: +wantV }, bindings, workgroups }], subsOf(g));
}

// ---- float64 reference ------------------------------------------------------------------------

/** Scores of query row i against every key: scale·q·k + mask, −∞ where masked or causally hidden. */
function scoresRow(Q: Float64Array, K: Float64Array, M: Float64Array | null, g: Dims, attrs: AttentionAttrs,
  b: number, i: number, s: Float64Array): void {
  const qo = (b * g.Nq + i) * g.d;
  for (let j = 0; j < g.Nk; j++) {
    if (attrs.causal && j > i) { s[j] = -Infinity; continue; }
    const ko = (b * g.Nk + j) * g.d;
    let dot = 0;
    for (let c = 0; c < g.d; c++) dot += Q[qo + c]! * K[ko + c]!;
    s[j] = dot * attrs.scale + (M ? M[b * g.maskBatch + i * g.Nk + j]! : 0);
  }
}

/** Row logsumexp; −∞ for a fully masked row. */
function logsumexp(s: Float64Array): number {
  let m = -Infinity;
  for (const x of s) m = Math.max(m, x);
  if (m === -Infinity) return m;
  let l = 0;
  for (const x of s) l += Math.exp(x - m);
  return m + Math.log(l);
}

/** p[j] = exp(s[j] − lse), zero for masked entries and for fully masked rows (lse = −∞). */
function probabilities(s: Float64Array, lse: number): void {
  for (let j = 0; j < s.length; j++) s[j] = lse === -Infinity || s[j] === -Infinity ? 0 : Math.exp(s[j]! - lse);
}

/** D_i = dy_i · y_i, the row's Σ_j p_ij dp_ij (docs/ops/attention.md §3). */
function rowDot(DY: Float64Array, O: Float64Array, at: number, n: number): number {
  let D = 0;
  for (let c = 0; c < n; c++) D += DY[at + c]! * O[at + c]!;
  return D;
}

/**
 * Runs fn(b, i, p, lse) with the probabilities p of every query row. lse comes from the input
 * the backward kernels get (so they see what the fast backends see), or is computed here.
 */
function eachRow(inputs: readonly View[], maskAt: number, lseAt: number | null, attrs: AttentionAttrs, g: Dims,
  fn: (b: number, i: number, p: Float64Array, lse: number) => void): void {
  const Q = buf(inputs[0]!), K = buf(inputs[1]!);
  const M = attrs.mask === 'none' ? null : buf(inputs[maskAt]!);
  const L = lseAt === null ? null : buf(inputs[lseAt]!);
  const s = new Float64Array(g.Nk);
  for (let b = 0; b < g.B; b++)
    for (let i = 0; i < g.Nq; i++) {
      scoresRow(Q, K, M, g, attrs, b, i, s);
      const lse = L ? L[b * g.Nq + i]! : logsumexp(s);
      probabilities(s, lse);
      fn(b, i, s, lse);
    }
}

// ---- kernels ----------------------------------------------------------------------------------

/** inputs [q, k, v, mask?] → y [B, Nq, dv]; a fully masked row gives zeros. */
export const attentionKernel = defineKernel<AttentionAttrs>({
  name: 'attention',
  reference(inputs, out, attrs) {
    const g = dims(inputs[0]!, inputs[1]!, inputs[2]!.shape[2]!, attrs);
    const V = buf(inputs[2]!), Y = buf(out);
    eachRow(inputs, 3, null, attrs, g, (b, i, p) => {
      const yo = (b * g.Nq + i) * g.dv;
      for (let c = 0; c < g.dv; c++) Y[yo + c] = 0;
      for (let j = 0; j < g.Nk; j++) {
        if (p[j] === 0) continue;
        const vo = (b * g.Nk + j) * g.dv;
        for (let c = 0; c < g.dv; c++) Y[yo + c] = Y[yo + c]! + p[j]! * V[vo + c]!;
      }
    });
  },
  wasm: {
    exports: [wasmForward],
    run: (ctx, [q, k, v, mask], out, attrs) => forwardWasm(ctx, q!, k!, v!, mask, out, attrs),
  },
  webgpu: {
    kernels: [gpuForward],
    supports: widthsFit,
    variants: variantsOf(gpuForward),
    run: (ctx, [q, k, v, mask], out, attrs) => forwardGpu(ctx, q!, k!, v!, mask, out, attrs),
  },
});

/** inputs [q, k, mask?] → per-row logsumexp of the scores [B, Nq] (−∞ for a fully masked row). */
export const attentionLseKernel = defineKernel<AttentionAttrs>({
  name: 'attentionLse',
  reference(inputs, out, attrs) {
    const g = dims(inputs[0]!, inputs[1]!, 0, attrs);
    const Y = buf(out);
    eachRow(inputs, 2, null, attrs, g, (b, i, _p, lse) => { Y[b * g.Nq + i] = lse; });
  },
  wasm: {
    exports: [wasmForward],
    run: (ctx, [q, k, mask], out, attrs) => forwardWasm(ctx, q!, k!, null, mask, out, attrs),
  },
  webgpu: {
    kernels: [gpuForward],
    supports: ([q]) => gpuSupports(q!.shape[2]!, 0),
    variants: variantsOf(gpuForward),
    run: (ctx, [q, k, mask], out, attrs) => forwardGpu(ctx, q!, k!, null, mask, out, attrs),
  },
});

/** inputs [q, k, v, dy, lse, y, mask?] (y the forward output) → dq [B, Nq, d] = scale · Σ_j p(dp − D) k_j. */
export const attentionGradQKernel = defineKernel<AttentionAttrs>({
  name: 'attentionGradQ',
  reference(inputs, out, attrs) {
    const g = dims(inputs[0]!, inputs[1]!, inputs[2]!.shape[2]!, attrs);
    const K = buf(inputs[1]!), V = buf(inputs[2]!), DY = buf(inputs[3]!), O = buf(inputs[5]!), Y = buf(out);
    eachRow(inputs, 6, 4, attrs, g, (b, i, p) => {
      const yo = (b * g.Nq + i) * g.d, go = (b * g.Nq + i) * g.dv, D = rowDot(DY, O, go, g.dv);
      for (let c = 0; c < g.d; c++) Y[yo + c] = 0;
      for (let j = 0; j < g.Nk; j++) {
        if (p[j] === 0) continue;
        const vo = (b * g.Nk + j) * g.dv, ko = (b * g.Nk + j) * g.d;
        let dp = 0;
        for (let c = 0; c < g.dv; c++) dp += DY[go + c]! * V[vo + c]!;
        const ds = p[j]! * (dp - D) * attrs.scale;
        for (let c = 0; c < g.d; c++) Y[yo + c] = Y[yo + c]! + ds * K[ko + c]!;
      }
    });
  },
  wasm: {
    exports: [wasmGradQ],
    run(ctx, inputs, out, attrs) {
      const g = dims(inputs[0]!, inputs[1]!, inputs[2]!.shape[2]!, attrs), perThread = scratchFloats.gradQ(g);
      wasmCall(ctx, perThread, (scratch) => ctx.call(wasmGradQ, {
        ...backwardPointers(ctx, inputs, out), ...shapeArgs(g, attrs), scratch, perThread,
      }, 2 * g.B * g.Nq * g.Nk * (2 * g.d + g.dv)));
    },
  },
  webgpu: {
    kernels: [gpuGradQ],
    supports: widthsFit,
    variants: variantsOf(gpuGradQ),
    run: (ctx, inputs, out, attrs) => backwardGpu(ctx, inputs, out, attrs, null),
  },
});

/** Shared by dK and dV: the same walk over keys, each key row summing over every query row. */
function gradKVKernel(name: string, wantV: boolean) {
  return defineKernel<AttentionAttrs>({
    name,
    reference(inputs, out, attrs) {
      const g = dims(inputs[0]!, inputs[1]!, inputs[2]!.shape[2]!, attrs);
      const Q = buf(inputs[0]!), V = buf(inputs[2]!), DY = buf(inputs[3]!), O = buf(inputs[5]!), Y = buf(out);
      const cols = wantV ? g.dv : g.d;
      Y.fill(0);
      eachRow(inputs, 6, 4, attrs, g, (b, i, p) => {
        const qo = (b * g.Nq + i) * g.d, go = (b * g.Nq + i) * g.dv, D = rowDot(DY, O, go, g.dv);
        for (let j = 0; j < g.Nk; j++) {
          if (p[j] === 0) continue;
          const yo = (b * g.Nk + j) * cols;
          if (wantV) {
            for (let c = 0; c < g.dv; c++) Y[yo + c] = Y[yo + c]! + p[j]! * DY[go + c]!;
            continue;
          }
          const vo = (b * g.Nk + j) * g.dv;
          let dp = 0;
          for (let c = 0; c < g.dv; c++) dp += DY[go + c]! * V[vo + c]!;
          const ds = p[j]! * (dp - D) * attrs.scale;
          for (let c = 0; c < g.d; c++) Y[yo + c] = Y[yo + c]! + ds * Q[qo + c]!;
        }
      });
    },
    wasm: {
      exports: [wasmGradKV],
      run(ctx, inputs, out, attrs) {
        const g = dims(inputs[0]!, inputs[1]!, inputs[2]!.shape[2]!, attrs), perThread = scratchFloats.gradKV(g, wantV);
        wasmCall(ctx, perThread, (scratch) => ctx.call(wasmGradKV, {
          ...backwardPointers(ctx, inputs, out), ...shapeArgs(g, attrs), wantV: +wantV, scratch, perThread,
        }, 2 * g.B * g.Nq * g.Nk * (wantV ? g.d + g.dv : 2 * g.d + g.dv)));
      },
    },
    webgpu: {
      kernels: [gpuGradKV],
      supports: widthsFit,
      variants: variantsOf(gpuGradKV),
      run: (ctx, inputs, out, attrs) => backwardGpu(ctx, inputs, out, attrs, wantV),
    },
  });
}

/** inputs [q, k, v, dy, lse, y, mask?] → dk [B, Nk, d] = scale · Σ_i p(dp − D) q_i. */
export const attentionGradKKernel = gradKVKernel('attentionGradK', false);
/** inputs [q, k, v, dy, lse, y, mask?] → dv [B, Nk, dv] = Σ_i p dy_i. */
export const attentionGradVKernel = gradKVKernel('attentionGradV', true);

export const kernels = [attentionKernel, attentionLseKernel, attentionGradQKernel, attentionGradKKernel, attentionGradVKernel];

// ---- the op -----------------------------------------------------------------------------------

/**
 * softmax(q·kᵀ·scale + mask)·v over rank-3 [B, N, width] tensors: self-attention (q, k, v from one
 * source) or cross-attention (Nq ≠ Nk). Multi-head attention folds the heads into B (the caller
 * reshapes [B, N, H·d] → [B·H, N, d]). A query row that every key is masked from yields zeros.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'attention';
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!t || typeof t !== 'object' || !('shape' in t)) fail(op, `${name} must be a tensor`);
    t.assertLive(op);
    if (t.rank !== 3) fail(op, `${name} must be rank 3 [B, N, width] (fold heads into B), got ${shapeStr(t.shape)}`);
    if (t.engine !== q.engine) fail(op, `q and ${name} live on different engines`);
  }
  const [B, Nq, d] = q.shape as [number, number, number];
  const [Bk, Nk, dk] = k.shape as [number, number, number];
  const [Bv, Nv] = v.shape as [number, number, number];
  if (Bk !== B || Bv !== B) fail(op, `batch sizes differ: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`);
  if (dk !== d) fail(op, `q and k widths differ: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}`);
  if (Nv !== Nk) fail(op, `k and v must have the same number of rows: k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`);
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) fail(op, `scale must be a finite number, got ${opts.scale}`);
  if (opts.causal !== undefined && typeof opts.causal !== 'boolean') fail(op, `causal must be a boolean, got ${opts.causal}`);
  let maskKind: AttentionAttrs['mask'] = 'none';
  const mask = opts.mask;
  if (mask !== undefined) {
    if (!mask || typeof mask !== 'object' || !('shape' in mask)) fail(op, 'mask must be a tensor');
    mask.assertLive(op);
    if (mask.engine !== q.engine) fail(op, 'q and mask live on different engines');
    const ok = mask.shape[mask.rank - 1] === Nk && mask.shape[mask.rank - 2] === Nq &&
      (mask.rank === 2 || (mask.rank === 3 && (mask.shape[0] === B || mask.shape[0] === 1)));
    if (!ok) fail(op, `mask must be [${Nq}, ${Nk}] or [${B}, ${Nq}, ${Nk}], got ${shapeStr(mask.shape)}`);
    maskKind = mask.rank === 3 && B > 1 && mask.shape[0] === B ? 'batched' : 'shared';
  }
  const attrs: AttentionAttrs = { scale, causal: !!opts.causal, mask: maskKind };
  const engine = q.engine;
  return engine.run(attentionKernel, {
    inputs: mask ? [q, k, v, mask] : [q, k, v], outShape: [B, Nq, v.shape[2]!], attrs,
    // The logsumexp is recomputed here rather than kept from the forward: with one output per kernel it
    // costs the same extra pass either way, and nothing outlives the tape (docs/ops/attention.md).
    grad: (dy, [qi, ki, vi, mi], y) => engine.scope(() => {
      const masks = mi ? [mi] : [];
      const lse = engine.run(attentionLseKernel, { inputs: [qi!, ki!, ...masks], outShape: [B, Nq], attrs });
      const ins = [qi!, ki!, vi!, dy, lse, y, ...masks];
      return [
        engine.run(attentionGradQKernel, { inputs: ins, outShape: qi!.shape, attrs }),
        engine.run(attentionGradKKernel, { inputs: ins, outShape: ki!.shape, attrs }),
        engine.run(attentionGradVKernel, { inputs: ins, outShape: vi!.shape, attrs }),
        null,
      ];
    }),
  });
}
