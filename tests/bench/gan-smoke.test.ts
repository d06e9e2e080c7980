// `npm run bench -- gan --quick`'s suite in a child process (tfjs's gradient registry loads through
// tsx, as in `npm run bench`): both training steps run on every contender, the tfjs G and D
// (bench/peers/tfjs-gan.ts) compute the same losses as inflow's on the same weights, and the FLOP
// count follows the preset's widths. Times are not checked.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ganFlops, type GanRow } from '../../bench/gan-tables.js';
import { ganPreset } from '../../src/models/gan/config.js';

const threadsAll = Math.min(2, os.availableParallelism());
// The suite alone, without run.ts, so nothing is written to bench/results/.
const script = `import { ganBench } from './bench/gan.ts'; import { PeakMeter } from './bench/peak.ts';
const r = await ganBench.run({ peak: await PeakMeter.create(5), threadsAll: ${threadsAll}, quick: true });
console.log(JSON.stringify({ rows: r.data.rows, tableRows: r.tables[0].rows.length })); process.exit(0);`;

describe('bench gan --quick', () => {
  it('times a D and a G step on inflow and tfjs, and their losses agree', () => {
    const p = spawnSync(process.execPath, ['--no-liftoff', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 150_000, maxBuffer: 1 << 26 });
    expect(p.status, p.stderr.slice(-2000)).toBe(0);
    const r = JSON.parse(p.stdout.trim().split('\n').at(-1)!) as { rows: GanRow[]; tableRows: number };
    expect(r.rows.map((x) => x.step)).toEqual(['discriminator', 'generator']);
    const ids = ['tfjs', 'wasm1', ...(threadsAll > 1 ? ['wasmN'] : [])];
    for (const row of r.rows) {
      expect(row.contenders.map((c) => c.id)).toEqual(ids);
      for (const c of row.contenders) {
        expect(c.timing.medianMs, `${row.step} ${c.id}`).toBeGreaterThan(0);
        expect(c.losses.every(Number.isFinite)).toBe(true);
        // Same weights, data and power-iteration vectors: only float rounding apart.
        if (c.id !== 'wasm1') expect(c.firstLossDiff!, `${row.step} ${c.id}`).toBeLessThan(1e-3);
      }
    }
    expect(r.tableRows).toBe(2 * ids.length);
  }, 160_000);

  it('counts the preset\'s FLOPs as walked by hand, a G step as 3 × (G + D), a D step as G + 6 × D', () => {
    // ch 8: 32 channels everywhere, zDim 64, 3 image channels, 4 classes + "fake".
    const f = ganFlops(ganPreset(32, { classes: 4, ch: 8 }), 1);
    const conv = (ci: number, co: number, k: number, side: number) => 2 * ci * co * k * k * side * side;
    const gBlock = (side: number) => 2 * conv(32, 32, 3, side) + conv(32, 32, 1, side);
    expect(f.generatorForward).toBe(2 * 64 * 16 * 32 + gBlock(8) + gBlock(16) + gBlock(32) + conv(32, 3, 3, 32));
    expect(f.discriminatorForward).toBe(conv(3, 32, 3, 32) + conv(32, 32, 3, 32) + conv(3, 32, 1, 16) + // image block: pools, widens
      2 * conv(32, 32, 3, 16) + conv(32, 32, 1, 8) + 2 * conv(32, 32, 3, 8) + conv(32, 32, 1, 4) + // pooling blocks
      2 * conv(32, 32, 3, 4) + 2 * 32 * 6); // last block keeps size and width (identity shortcut); ψ and the 5-way projection
    expect(f.generator).toBe(3 * (f.generatorForward + f.discriminatorForward));
    expect(f.discriminator).toBe(f.generatorForward + 6 * f.discriminatorForward);
    expect(ganFlops(ganPreset(32, { classes: 4, ch: 8 }), 4).generator).toBe(4 * f.generator);
  });
});
