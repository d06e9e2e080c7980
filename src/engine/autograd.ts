import type { Engine, TapeNode } from './engine.js';
import { fail, shapeStr } from './errors.js';
import { add } from '../ops/binary.js';
import type { Tensor } from './tensor.js';

export interface ValueAndGrads {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Reverse-mode gradients of the scalar f() with respect to xs. Every op on the tape contributes
 * through the gradient rule written once in its op definition, so all backends share the rules.
 * Intermediates are freed on return; value and grads belong to the caller's scope. An x that f
 * does not depend on gets a zero gradient.
 */
export function valueAndGrads(engine: Engine, f: () => Tensor, xs: readonly Tensor[]): ValueAndGrads {
  for (const x of xs) x.assertLive('valueAndGrads');
  const { result: value, tape } = engine.withTape(() => engine.scope(f));
  try {
    if (!value || typeof value !== 'object' || !('size' in value)) fail('valueAndGrads', 'f must return a tensor');
    if (value.size !== 1) fail('valueAndGrads', `f must return a scalar, got shape ${shapeStr(value.shape)}`);
    const grads = engine.noGrad(() => engine.scope(() => backward(engine, tape, value, xs)));
    return { value, grads };
  } finally {
    engine.releaseTape(tape);
  }
}

function backward(engine: Engine, tape: readonly TapeNode[], value: Tensor, xs: readonly Tensor[]): Tensor[] {
  // Only nodes on a path from some x to the value matter.
  const fromX = new Set(xs.map((x) => x.id));
  for (const n of tape) if (n.inputIds.some((id) => fromX.has(id))) fromX.add(n.outputId);
  const wanted = new Set(xs.map((x) => x.id));
  const grads = new Map<number, Tensor>([[value.id, engine.ones(value.shape)]]);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const dy = grads.get(node.outputId);
    if (!dy || !fromX.has(node.outputId)) continue;
    const inputGrads = node.grad(dy, node.inputs, node.output);
    if (!wanted.has(node.outputId)) grads.delete(node.outputId);
    const stored = new Set(grads.values());
    inputGrads.forEach((g, k) => {
      const id = node.inputIds[k]!;
      if (!g || !fromX.has(id)) return;
      // A rule may hand back one tensor for several inputs (add gives dy twice): each entry gets
      // its own handle so disposing one never frees another.
      const own = stored.has(g) || g === dy ? engine.share(g, g.shape) : g;
      stored.add(own);
      const prev = grads.get(id);
      grads.set(id, prev ? add(prev, own) : own);
    });
    if (!wanted.has(node.outputId) && !stored.has(dy)) dy.dispose();
  }
  return xs.map((x) => grads.get(x.id) ?? engine.zeros(x.shape));
}
