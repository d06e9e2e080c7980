import { readFileSync, statSync, type Stats } from 'node:fs';
import { InflowError } from '../engine/errors.js';
import { fsReason, kindOf } from '../io/atomic-write.js';
import type { ImageDataset } from './dataset.js';

/** One record of the official CIFAR-10 binary format: a label byte, then 3 × 32 × 32 channel-major pixels. */
const RECORD = 1 + 3072;
/** readFileSync's own limit (2 GiB − 1): above it Node fails with an internal message. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * CIFAR-10 from the user's own binary batch files (data_batch_1.bin … test_batch.bin).
 * Each file must be a whole number of records with labels 0…9; the error names the bad file.
 */
export function loadCifar10(files: readonly string[]): ImageDataset {
  if (files.length === 0) throw new InflowError('CIFAR-10: no batch files given');
  let total = 0;
  const sizes: number[] = [];
  for (const f of files) {
    let st: Stats;
    try {
      st = statSync(f);
    } catch (e) {
      throw new InflowError(`${f}: cannot read this CIFAR-10 batch file (${fsReason(e)})`);
    }
    // stat, never open: a named pipe would block the read forever, a device never ends.
    if (!st.isFile()) throw new InflowError(`${f}: is ${kindOf(st)}, not a CIFAR-10 batch file`);
    const size = st.size;
    if (size === 0 || size % RECORD !== 0)
      throw new InflowError(`${f}: ${size} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (wrong file or truncated)`);
    if (size > MAX_FILE_BYTES)
      throw new InflowError(`${f}: ${size} bytes is more than one file may hold here (${MAX_FILE_BYTES}); the official batches are ${10000 * RECORD} bytes each`);
    total += size / RECORD;
    sizes.push(size);
  }
  const images = new Uint8Array(total * 3072);
  const labels = new Int32Array(total);
  let n = 0;
  files.forEach((f, i) => {
    const bytes = readFileSync(f);
    if (bytes.length !== sizes[i]) throw new InflowError(`${f}: changed size while it was read`);
    for (let off = 0; off < bytes.length; off += RECORD, n++) {
      const label = bytes[off]!;
      if (label > 9) throw new InflowError(`${f}: record ${off / RECORD} has label ${label}; CIFAR-10 labels are 0…9`);
      labels[n] = label;
      images.set(bytes.subarray(off + 1, off + RECORD), n * 3072);
    }
  });
  return { name: 'cifar10', images, labels, count: total, shape: [3, 32, 32] };
}
