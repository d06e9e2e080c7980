import type { Storage, View } from '../backend.js';

/** Reference storage holds float64 so the oracle accumulates and stores in double precision. */
export class RefStorage implements Storage {
  readonly data: Float64Array;
  constructor(readonly numel: number) {
    this.data = new Float64Array(numel);
  }
}

export const buf = (v: View): Float64Array => (v.storage as RefStorage).data;

export { strides } from '../strides.js';
