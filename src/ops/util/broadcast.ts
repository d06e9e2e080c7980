import { fail, shapeStr } from '../../engine/errors.js';
import { strides } from '../../backends/strides.js';
import { numel } from '../../engine/shape.js';

/**
 * The rank every broadcasting elementwise kernel (binary, where) is written for: tensors have rank
 * ≤ 6, and collapsing never adds axes.
 */
export const KERNEL_RANK = 6;

/**
 * Element strides of a row-major input of shape `inShape` read at the indices of `outShape`
 * (shapes right-aligned, numpy style): 0 along the axes the input is broadcast over.
 */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s = strides(inShape);
  const lead = outShape.length - inShape.length;
  return outShape.map((d, i) => (i < lead || (inShape[i - lead] === 1 && d !== 1) ? 0 : s[i - lead]!));
}

export interface BroadcastLayout {
  /** KERNEL_RANK output dims, unit axes in front. */
  dims: number[];
  /** Per input, KERNEL_RANK element strides (0 along broadcast axes). */
  strides: number[][];
}

/**
 * What a broadcasting kernel iterates: the output's axes with every unit axis dropped and each pair
 * of neighbours merged where every input steps through them as one run (contiguous, or broadcast
 * over both), padded in front with unit axes to KERNEL_RANK. [N,C,H,W] with [1,C,1,1] becomes rows
 * of H·W reading a scalar of the second input per row; equal shapes become one row of every element.
 * The last axis then has stride 0 or 1 in every input: the kernels' fast paths rely on that.
 */
export function broadcastLayout(op: string, outShape: readonly number[], inShapes: readonly (readonly number[])[]): BroadcastLayout {
  const full = inShapes.map((s) => broadcastStrides(s, outShape));
  const dims: number[] = [];
  const st: number[][] = inShapes.map(() => []);
  outShape.forEach((d, i) => {
    if (d === 1) return;
    const k = dims.length - 1;
    if (k >= 0 && full.every((s, j) => st[j]![k] === s[i]! * d)) {
      dims[k]! *= d;
      full.forEach((s, j) => { st[j]![k] = s[i]!; });
    } else {
      dims.push(d);
      full.forEach((s, j) => st[j]!.push(s[i]!));
    }
  });
  if (dims.length > KERNEL_RANK) fail(op, `output ${shapeStr(outShape)} needs ${dims.length} axes after merging; kernels take ${KERNEL_RANK}`);
  while (dims.length < KERNEL_RANK) {
    dims.unshift(1);
    for (const s of st) s.unshift(0);
  }
  return { dims, strides: st };
}

/**
 * Calls visit(o, offsets) for every output element o in row-major order, with the element each
 * input reads there: the plain odometer the reference kernels use (independent of broadcastLayout,
 * so the oracle does not share the fast kernels' index logic).
 */
export function forEachBroadcast(outShape: readonly number[], inShapes: readonly (readonly number[])[],
  visit: (o: number, offsets: readonly number[]) => void): void {
  const st = inShapes.map((s) => broadcastStrides(s, outShape));
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  const offsets = inShapes.map(() => 0);
  const total = numel(outShape);
  for (let o = 0; o < total; o++) {
    visit(o, offsets);
    for (let k = rank - 1; k >= 0; k--) {
      const d = outShape[k]!;
      idx[k]!++;
      for (let j = 0; j < st.length; j++) offsets[j]! += st[j]![k]!;
      if (idx[k]! < d) break;
      idx[k] = 0;
      for (let j = 0; j < st.length; j++) offsets[j]! -= st[j]![k]! * d;
    }
  }
}

type Six<P extends string> = Record<`${P}${0 | 1 | 2 | 3 | 4 | 5}`, number>;

/** The six names of each prefix, made once: building them per call was a fifth of a small op's time. */
const sixNames = new Map<string, readonly string[]>();

/** { p0: v[0], …, p5: v[5] }: the named kernel arguments / uniforms of one KERNEL_RANK vector. */
export function sixOf<P extends string>(prefix: P, v: readonly number[]): Six<P> {
  let names = sixNames.get(prefix);
  if (!names) sixNames.set(prefix, (names = Array.from({ length: KERNEL_RANK }, (_, i) => `${prefix}${i}`)));
  const out: Record<string, number> = {};
  for (let i = 0; i < v.length; i++) out[names[i]!] = v[i]!;
  return out as Six<P>;
}
