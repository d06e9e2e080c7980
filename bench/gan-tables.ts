// The gan suite's FLOP count and table (bench/gan.ts measures; this formats and takes ratios).
import type { GanConfig } from '../src/models/gan/config.js';
import { headOutputs } from '../src/models/gan/config.js';
import { sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Timing } from './lib/timing.js';

export interface GanContender { id: string; label: string; threads: number; timing: Timing; losses: number[]; firstLossDiff: number | null }
export interface GanRow { step: 'discriminator' | 'generator'; batch: number; flops: number; contenders: GanContender[] }

/**
 * Multiply-adds × 2 of the convolutions and linears (norms, pools and elementwise ops left out),
 * walked as src/models/gan/generator.ts and discriminator.ts build them. A differentiated forward is
 * counted 3 times (forward, input gradient, weight gradient): the discriminator step is G's forward
 * (no tape) plus D on the reals and on the fakes; the generator step is G and D once each.
 */
export function ganFlops(c: GanConfig, batch: number): { generatorForward: number; discriminatorForward: number; discriminator: number; generator: number } {
  const conv = (ci: number, co: number, k: number, side: number) => 2 * ci * co * k * k * side * side;
  const g = c.gWidths.map((m) => m * c.ch);
  let G = 2 * c.zDim * 16 * g[0]!, side = 4;
  for (let b = 0; b + 1 < g.length; b++) {
    side *= 2;
    G += conv(g[b]!, g[b + 1]!, 3, side) + conv(g[b + 1]!, g[b + 1]!, 3, side) + conv(g[b]!, g[b + 1]!, 1, side);
  }
  G += conv(g.at(-1)!, c.imageChannels, 3, c.resolution);
  const downs = Math.log2(c.resolution / 4);
  let D = 0, inC = c.imageChannels;
  side = c.resolution;
  c.dWidths.forEach((m, b) => {
    const outC = m * c.ch, down = b < downs;
    D += conv(inC, outC, 3, side) + conv(outC, outC, 3, side);
    if (down) side /= 2;
    if (down || inC !== outC) D += conv(inC, outC, 1, side);
    inC = outC;
  });
  D += 2 * inC * (headOutputs(c) + 1);
  return { generatorForward: G * batch, discriminatorForward: D * batch, discriminator: (G + 6 * D) * batch, generator: 3 * (G + D) * batch };
}

const ratio = (r: GanRow, c: GanContender, id: string): number | null => {
  const other = r.contenders.find((o) => o.id === id);
  return other && other !== c ? sig(other.timing.medianMs / c.timing.medianMs, 3) : null;
};

export function ganTable(rows: GanRow[], c: GanConfig, peak: number, ratios: Record<string, number | null>): Table {
  return {
    title: `conditional GAN training steps (32×32 preset, ch ${c.ch}, ${c.classes} classes, ${c.loss}): warm median ms per step, images/s, GFLOP/s (% of ${peak} GFLOP/s per core × threads), ÷ tfjs = tfjs ms / this ms (> 1: inflow faster), Δ = first loss vs inflow wasm 1 thread`,
    header: ['step', 'batch', 'contender', 'cold ms', 'warm ms', 'min ms', 'images/s', 'GF/s', '%pk', '÷ tfjs', '÷ wasm 1t', 'Δ', 'reps'],
    rows: rows.flatMap((r) => r.contenders.map((k) => {
      const gf = r.flops / k.timing.medianMs / 1e6;
      return [r.step, r.batch, k.label, k.timing.coldMs, k.timing.medianMs, k.timing.minMs, sig((r.batch * 1000) / k.timing.medianMs, 4), sig(gf, 3),
        k.threads ? sig((100 * gf) / (peak * k.threads), 3) : null, ratio(r, k, 'tfjs'), ratio(r, k, 'wasm1'),
        k.firstLossDiff === null ? null : k.firstLossDiff.toExponential(1), String(k.timing.samplesMs.length)];
    })),
    notes: [
      `GFLOP per step: ${rows.map((r) => `${r.step} ${(r.flops / 1e9).toFixed(1)}`).join(', ')} (conv and linear multiply-adds × 2; a differentiated forward counted 3 times; the discriminator step makes its fakes without a tape)`,
      'both sides: spectral norm as one power iteration per forward, conditional BatchNorm on one-hot classes, projection head with K + 1 outputs, hinge + 0.05 × multi-hinge, Adam β₁ = 0, β₂ = 0.999, lr 2e-4; same weights, data, z and power-iteration vectors',
      'tfjs-wasm has no Conv2DBackpropFilter kernel: its convolutions carry the filter gradient as one more tf.conv2d (as in the unet suite)',
      ...rows.map((r) => `${r.step} losses per step: ${r.contenders.map((k) => `${k.id} ${k.losses.join(' ')}`).join('; ')}`),
      `ratios (> 1: inflow faster): ${Object.entries(ratios).map(([k, v]) => `${k} ${v ?? '–'}`).join(', ')}`,
    ],
  };
}
