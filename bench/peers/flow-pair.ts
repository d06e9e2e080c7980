// One set of FInC weights in inflow and in the tfjs port, so both are timed and checked on the same numbers.
import { models, type Engine } from '../../src/index.js';
import type { FlowModel } from '../../src/models/index.js';
import { Rng } from '../../src/data/rng.js';
import { TfjsFincFlow, type FlowShape, type HostWeights } from './tfjs-flow.js';

export interface FlowPair { model: FlowModel; tfjs: TfjsFincFlow | null; weights: HostWeights }

/** Dequantised pixels in [0, 256), NCHW, from a seed: smooth blobs plus noise so ActNorm sees structure. */
export function pixels(n: number, [C, H, W]: readonly number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * C! * H! * W!);
  for (let i = 0; i < out.length; i++) {
    const w = i % W!, h = Math.floor(i / W!) % H!;
    out[i] = Math.min(255.99, Math.max(0, 128 + 90 * Math.sin((h + i % 7) / 3) * Math.cos(w / 4) + 20 * rng.normal() + rng.uniform()));
  }
  return out;
}

/**
 * inflow's model with ActNorm initialised on x and the zero-initialised coupling outputs filled with
 * small noise (otherwise every coupling is the identity and the comparison would miss them), then ported.
 */
export async function flowPair(engine: Engine, shape: FlowShape, x: Float32Array, batch: number, withTfjs = true, seed = 0): Promise<FlowPair> {
  const { inputShape, levels, steps, width, kernelSize } = shape;
  const model = models.fincFlow({ inputShape, levels, steps, width, kernelSize }, { engine, seed });
  model.initialize(engine.tensor(x, [batch, ...inputShape]));
  const rng = new Rng(seed + 7);
  const weights: HostWeights = new Map();
  for (const [name, p] of model.namedParams()) {
    let data = await p.value.data();
    if (/\.out\.(weight|bias)$/.test(name)) data = Float32Array.from(rng.normals(data.length, 0.02));
    weights.set(name, { data, shape: [...p.shape] });
  }
  model.loadParameters(new Map([...weights].map(([k, v]) => [k, v.data])));
  return { model, tfjs: withTfjs ? new TfjsFincFlow(shape, weights) : null, weights };
}
