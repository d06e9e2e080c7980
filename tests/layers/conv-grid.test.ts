import { afterAll, describe, expect, it } from 'vitest';
import { solveKernelMask } from '../../src/ops/index.js';
import { CIncConv, FIncUnit, Rng, InverseConv } from '../../src/layers/index.js';
import type { MaskedKernelLayer } from '../../src/layers/masked-kernel.js';
import type { Engine } from '../../src/engine/engine.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { asFlow } from './cases.js';
import { contractLoss, jacobianLogAbsDet, maxAbsDiff, perturb } from './contract.js';

// The three k×k invertible convolutions over kernel sizes k ∈ {2,3,5,7} and channels per group
// Cg ∈ {1,2,3,6,12} (docs/testing.md §2): round trips on every backend at a non-square 5×6 map,
// and on reference the log-det against the dense Jacobian and masked entries without gradient.
const engines = await enginesUnderTest();
afterAll(() => { for (const e of engines) e.engine?.dispose(); });

type Kind = 'FIncUnit' | 'CIncConv' | 'InverseConv';
const make = (kind: Kind, e: Engine, k: number, cg: number): MaskedKernelLayer => {
  const rng = new Rng(100 * k + cg);
  if (kind === 'FIncUnit') return new FIncUnit(e, { channels: 4 * cg, kernelSize: k }, rng);
  if (kind === 'InverseConv') return new InverseConv(e, { channels: 4 * cg, kernelSize: k }, rng);
  return new CIncConv(e, { channels: cg, kernelSize: k }, rng);
};
const grid = (['FIncUnit', 'CIncConv', 'InverseConv'] as Kind[]).flatMap((kind) =>
  [2, 3, 5, 7].flatMap((k) => [1, 2, 3, 6, 12].map((cg) => ({ kind, k, cg }))));
const input = (n: number) => Float64Array.from(Float32Array.from({ length: n }, (_, i) => Math.sin(0.9 * i + 0.4)));

describe.each(engines)('k×k convolutions on $name', ({ name, engine, skipReason }) => {
  if (!engine) {
    it.skip(`skipped: ${skipReason}`, () => {});
    return;
  }
  it.each(grid)('$kind k=$k Cg=$cg round trip at 5×6', async ({ kind, k, cg }) => {
    const layer = make(kind, engine, k, cg);
    await perturb(layer, 0.02, k + cg);
    const C = layer.weight.shape[0]!;
    const x = input(2 * C * 30);
    const back = await engine.scope(() => layer.decode(layer.encode(engine.tensor(x, [2, C, 5, 6])).y)).data64();
    expect(maxAbsDiff(back, x)).toBeLessThan(name === 'reference' ? 1e-10 : 1e-4);
    layer.dispose();
  });
});

describe('k×k convolutions: dense Jacobian and masks (reference, float64)', () => {
  const ref = engines[0]!.engine!;
  it.each(grid)('$kind k=$k Cg=$cg', async ({ kind, k, cg }) => {
    const layer = make(kind, ref, k, cg);
    await perturb(layer, 0.1, k * cg);
    const C = layer.weight.shape[0]!;
    const [H, W] = cg === 12 ? [2, 2] : cg === 6 ? [2, 3] : [3, 4];
    const x = input(C * H * W);
    const want = await jacobianLogAbsDet(ref, (t) => [layer.encode(t).y], x, [1, C, H, W], 'linear');
    const got = (await ref.scope(() => layer.encode(ref.tensor(x, [1, C, H, W])).logdet).data64())[0]!;
    expect(Math.abs(got - want)).toBeLessThan(1e-6);
    if (kind !== 'CIncConv') expect(Math.abs(got)).toBe(0);

    // Masked centre entries and the unit diagonal get exactly zero gradient; the rest get one.
    const xt = ref.tensor(x, [1, C, H, W]);
    const { grads } = ref.valueAndGrads(() => contractLoss(ref, asFlow(layer), xt), [layer.weight.value]);
    const gw = await grads[0]!.data64();
    const mask = solveKernelMask(C, layer.weight.shape[1]!, k, true);
    expect(gw.every((v, i) => mask[i] !== 0 || v === 0)).toBe(true);
    expect(gw.some((v) => v !== 0)).toBe(true);
    layer.dispose();
  });
});

