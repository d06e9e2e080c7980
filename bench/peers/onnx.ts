// ONNX graphs for onnxruntime-node, written by a hand-rolled protobuf encoder (the handful of
// ModelProto fields these graphs need), so no exporter or schema package is involved. The field
// numbers are those of onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto.

/** Protobuf wire format: varints, 32-bit floats and length-delimited fields, nothing else is needed here. */
class Pb {
  private readonly parts: number[] = [];
  private varint(v: number): void {
    let n = BigInt(v);
    if (n < 0n) n += 1n << 64n;
    do {
      let b = Number(n & 0x7fn);
      n >>= 7n;
      if (n) b |= 0x80;
      this.parts.push(b);
    } while (n);
  }
  int(field: number, v: number): this { this.varint(field << 3); this.varint(v); return this; }
  float(field: number, v: number): this {
    this.varint((field << 3) | 5);
    for (const b of new Uint8Array(Float32Array.of(v).buffer)) this.parts.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this { this.varint((field << 3) | 2); this.varint(b.length); for (const x of b) this.parts.push(x); return this; }
  str(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Pb): this { return this.bytes(field, m.done()); }
  done(): Uint8Array { return Uint8Array.from(this.parts); }
}

const FLOAT = 1, INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** An attribute value: an integer (INT), a list of integers (INTS), { float } (FLOAT) or a string (STRING). */
export type AttrValue = number | readonly number[] | { float: number } | string;

function attribute(name: string, v: AttrValue): Pb {
  const a = new Pb().str(1, name);
  if (typeof v === 'number') return a.int(20, ATTR.INT).int(3, v);
  if (typeof v === 'string') return a.int(20, ATTR.STRING).str(4, v);
  if (Array.isArray(v)) { a.int(20, ATTR.INTS); for (const x of v) a.int(8, x); return a; }
  return a.int(20, ATTR.FLOAT).float(2, (v as { float: number }).float);
}

function valueInfo(name: string, dims: readonly number[], elemType = FLOAT): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, new Pb().int(1, d));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, elemType).msg(2, shape)));
}

/**
 * One ONNX graph under construction: float32 (or int64) inputs, float32 outputs with static shapes, initializers
 * (float32 weights, int64 shape vectors) and nodes in topological order. op() returns the name of
 * the node's output, so graphs read like the code they mirror.
 */
export class OnnxGraph {
  private readonly nodes: Pb[] = [];
  private readonly inits: Pb[] = [];
  private readonly inputs: Pb[] = [];
  private readonly outputs: Pb[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly name = 'inflow_bench') {}

  private fresh(hint: string): string {
    let n = hint;
    while (this.names.has(n)) n = `${hint}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** A graph input: float32, or int64 (indices, e.g. class labels for a Gather). */
  input(name: string, dims: readonly number[], type: 'float32' | 'int64' = 'float32'): string {
    this.inputs.push(valueInfo(this.fresh(name), dims, type === 'int64' ? INT64 : FLOAT));
    return name;
  }
  output(name: string, dims: readonly number[]): void { this.outputs.push(valueInfo(name, dims)); }

  /** A float32 initializer (weights), named `name` or a fresh variant of it. */
  init(name: string, dims: readonly number[], data: Float32Array): string {
    const n = this.fresh(name);
    const t = new Pb();
    for (const d of dims) t.int(1, d);
    this.inits.push(t.int(2, FLOAT).str(8, n).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return n;
  }

  /** An int64 initializer (the shape input of Reshape, the axes of a reduction). */
  ints(name: string, values: readonly number[]): string {
    const n = this.fresh(name);
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.inits.push(new Pb().int(1, values.length).int(2, INT64).str(8, n).bytes(9, new Uint8Array(raw.buffer)));
    return n;
  }

  /** A node; `out` names its output (the graph output, say), else it gets a fresh name from the op type. */
  op(type: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const o = out ?? this.fresh(type.toLowerCase());
    if (out) this.names.add(out);
    const n = new Pb();
    for (const i of inputs) n.str(1, i);
    n.str(2, o).str(3, o).str(4, type);
    for (const [k, v] of Object.entries(attrs)) n.msg(5, attribute(k, v));
    this.nodes.push(n);
    return o;
  }

  /** The serialised ModelProto (IR version 8) at the given default-domain opset. */
  model(opset = 17): Uint8Array {
    const g = new Pb();
    for (const n of this.nodes) g.msg(1, n);
    g.str(2, this.name);
    for (const t of this.inits) g.msg(5, t);
    for (const i of this.inputs) g.msg(11, i);
    for (const o of this.outputs) g.msg(12, o);
    return new Pb().int(1, 8).str(2, 'inflow-bench').msg(7, g).msg(8, new Pb().str(1, '').int(2, opset)).done();
  }
}

/**
 * onnxruntime session options for a side-by-side run: `threads` intra-op threads, full graph
 * optimisation, and no spinning. By default its idle pool threads spin for a while after each run;
 * on a 2-core machine that takes the cores from whichever contender is timed next.
 */
export const ortOptions = (threads: number) => ({
  intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});

/** The onnxruntime contenders of a side-by-side run: one thread, and every thread where there are more (ids ort1, ortN). */
export const ortPeers = (version: string | null, threadsAll: number): Array<{ id: string; label: string; threads: number }> =>
  (threadsAll > 1 ? [1, threadsAll] : [1]).map((threads) =>
    ({ id: threads === 1 ? 'ort1' : 'ortN', label: `onnxruntime-node ${version} CPU, ${threads} thread${threads > 1 ? 's, no spinning' : ''}`, threads }));

// ---- building blocks shared by the op rows and the UNet graph ---------------------------------------

export interface ConvAttrs { k: number; stride?: number; pad?: number | readonly [number, number, number, number]; group?: number }

/** Conv (NCHW, OIHW weight); pad is one number for every side or [top, left, bottom, right] as ONNX orders it. */
export function conv(g: OnnxGraph, x: string, w: string, b: string | null, a: ConvAttrs, out?: string): string {
  const p = a.pad ?? 0;
  return g.op('Conv', b ? [x, w, b] : [x, w], {
    kernel_shape: [a.k, a.k], strides: [a.stride ?? 1, a.stride ?? 1], pads: typeof p === 'number' ? [p, p, p, p] : p, group: a.group ?? 1,
  }, out);
}

/**
 * GroupNormalization of opset 21 (per-channel scale γ and shift β; opset 18's per-group form is
 * deprecated): a graph that uses it must be built with model(21) or later.
 */
export function groupNorm(g: OnnxGraph, x: string, groups: number, gamma: Float32Array, beta: Float32Array, eps = 1e-5, out?: string): string {
  const C = gamma.length;
  return g.op('GroupNormalization', [x, g.init('gn_gamma', [C], gamma), g.init('gn_beta', [C], beta)], { num_groups: groups, epsilon: { float: eps } }, out);
}

/**
 * softmax(q·kᵀ·scale)·v over the last two axes of [..., N, d] (Transpose, MatMul, Mul, Softmax,
 * MatMul): attention as an ONNX user writes it. `rank` is that of q, k and v (3: [B, N, d]; 4: [B, heads, N, d]).
 */
export function attention(g: OnnxGraph, q: string, k: string, v: string, scale: number, rank = 3, out?: string): string {
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const s = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm })]), g.init('attn_scale', [], Float32Array.of(scale))]);
  return g.op('MatMul', [g.op('Softmax', [s], { axis: -1 }), v], {}, out);
}

// ---- the coupling network of the perf suite ----------------------------------------------------------

export interface ConvStackWeights {
  w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; w3: Float32Array; b3: Float32Array;
}

/** conv3×3 → ReLU → conv1×1 → ReLU → conv3×3 ('same' padding, with biases) on [N, Ci, H, W], NCHW/OIHW. */
export function convStackModel(N: number, Ci: number, width: number, Co: number, H: number, W: number, w: ConvStackWeights): Uint8Array {
  const g = new OnnxGraph('coupling_net');
  const x = g.input('x', [N, Ci, H, W]);
  const c1 = conv(g, x, g.init('w1', [width, Ci, 3, 3], w.w1), g.init('b1', [width], w.b1), { k: 3, pad: 1 });
  const c2 = conv(g, g.op('Relu', [c1]), g.init('w2', [width, width, 1, 1], w.w2), g.init('b2', [width], w.b2), { k: 1 });
  conv(g, g.op('Relu', [c2]), g.init('w3', [Co, width, 3, 3], w.w3), g.init('b3', [Co], w.b3), { k: 3, pad: 1 }, 'y');
  g.output('y', [N, Co, H, W]);
  return g.model(17);
}
