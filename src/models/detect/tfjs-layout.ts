import { shapeStr } from '../../engine/errors.js';
import type { StateEntry } from '../../nn/module.js';
import { ModelFileError } from '../../io/safetensors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';

/**
 * TensorFlow's filter layouts → inflow's conv2d weight [out, in/groups, kh, kw] (docs/tfjs-weights.md §3).
 * A conv filter is [kh, kw, in, out]; a depthwise filter is [kh, kw, C, m] with output channel c·m + j.
 */
export function tfjsConvFilter(w: TfjsWeight, name: string, kind: 'conv' | 'depthwise', source: string): StateEntry {
  if (w.shape.length !== 4) throw new ModelFileError(`${source}: '${name}' has shape ${shapeStr(w.shape)}, not a 4-D filter`);
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  for (let a = 0; a < kh; a++)
    for (let b = 0; b < kw; b++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          const v = w.data[((a * kw + b) * ci + i) * co + o]!;
          // conv: weight[o, i, a, b]; depthwise: weight[i·m + o, 0, a, b].
          out[kind === 'conv' ? ((o * ci + i) * kh + a) * kw + b : ((i * co + o) * kh + a) * kw + b] = v;
        }
  return { shape: kind === 'conv' ? [co, ci, kh, kw] : [ci * co, 1, kh, kw], data: out };
}

/** A 1-D weight (bias, scale) as it is. */
export function tfjsVector(w: TfjsWeight, name: string, source: string): StateEntry {
  if (w.shape.length !== 1) throw new ModelFileError(`${source}: '${name}' has shape ${shapeStr(w.shape)}, not a vector`);
  return { shape: [...w.shape], data: Float32Array.from(w.data) };
}

/** The weight `name` of a decoded manifest, or a one-line error naming it and the source. */
export function tfjsWeight(weights: ReadonlyMap<string, TfjsWeight>, name: string, source: string): TfjsWeight {
  const w = weights.get(name);
  if (!w) throw new ModelFileError(`${source}: no weight '${name}' (is it the right model's manifest?)`);
  if (w.dtype !== 'float32') throw new ModelFileError(`${source}: '${name}' is ${w.dtype}, not float32`);
  return w;
}
