import { readFileSync, statSync } from 'node:fs';
import type { ImageDataset } from './dataset.js';

/** One record of the official CIFAR-10 binary format: a label byte, then 3 × 32 × 32 channel-major pixels. */
const RECORD = 1 + 3072;

/**
 * CIFAR-10 from the user's own binary batch files (data_batch_1.bin … test_batch.bin).
 * Each file must be a whole number of records with labels 0…9; the error names the bad file.
 */
export function loadCifar10(files: readonly string[]): ImageDataset {
  if (files.length === 0) throw new Error('CIFAR-10: no batch files given');
  let total = 0;
  for (const f of files) {
    let size: number;
    try {
      size = statSync(f).size;
    } catch {
      throw new Error(`${f}: file not found`);
    }
    if (size === 0 || size % RECORD !== 0)
      throw new Error(`${f}: ${size} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (wrong file or truncated)`);
    total += size / RECORD;
  }
  const images = new Uint8Array(total * 3072);
  const labels = new Int32Array(total);
  let n = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    for (let off = 0; off < bytes.length; off += RECORD, n++) {
      const label = bytes[off]!;
      if (label > 9) throw new Error(`${f}: record ${off / RECORD} has label ${label}; CIFAR-10 labels are 0…9`);
      labels[n] = label;
      images.set(bytes.subarray(off + 1, off + RECORD), n * 3072);
    }
  }
  return { name: 'cifar10', images, labels, count: total, shape: [3, 32, 32] };
}
