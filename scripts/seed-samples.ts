// A labelled grid of procedural seed images (docs/seed-purity.md) for a human to look at: one row per
// class and view, upscaled with nearest neighbour so single pixels stay visible.
//   node --import tsx scripts/seed-samples.ts [--out runs/seeds/samples-32.png] [--size 32] [--per-row 10] [--seed 1] [--scale 3]
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { SEED_CLASSES, SEED_VIEWS, seedImages } from '../src/data/seeds/index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'runs/seeds/samples-32.png' },
    size: { type: 'string', default: '32' },
    'per-row': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '3' },
  },
});
function die(msg: string): never {
  console.error(`seed-samples: ${msg}`);
  process.exit(2);
}
const int = (name: string, s: string): number => (/^\d+$/.test(s) ? Number(s) : die(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`));
const size = int('size', values.size), perRow = int('per-row', values['per-row']), seed = int('seed', values.seed), scale = int('scale', values.scale);
if (perRow < 1 || scale < 1) die('--per-row and --scale must be at least 1');

const cell = size * scale + 4, margin = 165;
const rows = SEED_CLASSES.length * SEED_VIEWS.length;
const W = margin + perRow * cell, H = rows * cell;
const canvas = Buffer.alloc(W * H * 3, 255);
const labels: string[] = [];
let row = 0;
for (const [k, cls] of SEED_CLASSES.entries())
  for (const view of SEED_VIEWS) {
    const counts = SEED_CLASSES.map((_, j) => (j === k ? perRow : 0));
    const set = (() => { try { return seedImages({ counts, size, seed: seed + row, view }); } catch (e) { return die(e instanceof Error ? e.message : String(e)); } })();
    for (let i = 0; i < perRow; i++) {
      const img = set.images.subarray(i * 3 * size * size, (i + 1) * 3 * size * size);
      for (let y = 0; y < size * scale; y++)
        for (let x = 0; x < size * scale; x++)
          for (let c = 0; c < 3; c++)
            canvas[((row * cell + 2 + y) * W + margin + i * cell + 2 + x) * 3 + c] = img[(c * size + Math.floor(y / scale)) * size + Math.floor(x / scale)]!;
    }
    labels.push(`<text x="6" y="${row * cell + cell / 2 + 5}" font-family="sans-serif" font-size="15">${cls} / ${view}</text>`);
    row++;
  }
const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${margin}" height="${H}">${labels.join('')}</svg>`);
mkdirSync(dirname(values.out), { recursive: true });
await sharp(canvas, { raw: { width: W, height: H, channels: 3 } }).composite([{ input: svg, left: 0, top: 0 }]).png().toFile(values.out);
console.log(`wrote ${values.out} (${W}×${H}, ${perRow} per class and view, ${size}×${size})`);
