// The coupling network as an ONNX graph, written by a hand-rolled protobuf encoder (the handful of
// ModelProto fields a Conv/Relu graph needs), so no exporter or schema package is involved.

/** Protobuf wire format: varints, length-delimited fields, nothing else is needed here. */
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
  bytes(field: number, b: Uint8Array): this { this.varint((field << 3) | 2); this.varint(b.length); for (const x of b) this.parts.push(x); return this; }
  str(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, m: Pb): this { return this.bytes(field, m.done()); }
  done(): Uint8Array { return Uint8Array.from(this.parts); }
}

const FLOAT = 1;
const ATTR_INT = 2, ATTR_INTS = 7;

function tensorProto(name: string, dims: readonly number[], data: Float32Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  return t.int(2, FLOAT).str(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, dims: readonly number[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, new Pb().int(1, d));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, FLOAT).msg(2, shape)));
}

const intsAttr = (name: string, vs: readonly number[]): Pb => {
  const a = new Pb().str(1, name).int(20, ATTR_INTS);
  for (const v of vs) a.int(8, v);
  return a;
};

function node(op: string, inputs: readonly string[], output: string, attrs: Pb[] = []): Pb {
  const n = new Pb();
  for (const i of inputs) n.str(1, i);
  n.str(2, output).str(3, output).str(4, op);
  for (const a of attrs) n.msg(5, a);
  return n;
}

function conv(x: string, w: string, b: string, out: string, k: number): Pb {
  const p = (k - 1) / 2;
  return node('Conv', [x, w, b], out, [intsAttr('kernel_shape', [k, k]), intsAttr('pads', [p, p, p, p]), intsAttr('strides', [1, 1]),
    new Pb().str(1, 'group').int(20, ATTR_INT).int(3, 1)]);
}

export interface ConvStackWeights {
  w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; w3: Float32Array; b3: Float32Array;
}

/** conv3×3 → ReLU → conv1×1 → ReLU → conv3×3 ('same' padding, with biases) on [N, Ci, H, W], NCHW/OIHW. */
export function convStackModel(N: number, Ci: number, width: number, Co: number, H: number, W: number, w: ConvStackWeights): Uint8Array {
  const g = new Pb()
    .msg(1, conv('x', 'w1', 'b1', 'c1', 3)).msg(1, node('Relu', ['c1'], 'r1'))
    .msg(1, conv('r1', 'w2', 'b2', 'c2', 1)).msg(1, node('Relu', ['c2'], 'r2'))
    .msg(1, conv('r2', 'w3', 'b3', 'y', 3))
    .str(2, 'coupling_net')
    .msg(5, tensorProto('w1', [width, Ci, 3, 3], w.w1)).msg(5, tensorProto('b1', [width], w.b1))
    .msg(5, tensorProto('w2', [width, width, 1, 1], w.w2)).msg(5, tensorProto('b2', [width], w.b2))
    .msg(5, tensorProto('w3', [Co, width, 3, 3], w.w3)).msg(5, tensorProto('b3', [Co], w.b3))
    .msg(11, valueInfo('x', [N, Ci, H, W])).msg(12, valueInfo('y', [N, Co, H, W]));
  return new Pb().int(1, 8).str(2, 'inflow-bench').msg(7, g).msg(8, new Pb().str(1, '').int(2, 17)).done();
}
