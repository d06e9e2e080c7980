import { Rng } from '../data/rng.js';

/**
 * How a module fills a new tensor: 'zeros', 'ones', or a function of the element count, the fan-in
 * (inputs feeding one output) and the module's Rng. Functions must draw from the Rng they are given,
 * so a seeded model is reproducible.
 */
export type Initializer = 'zeros' | 'ones' | ((count: number, fanIn: number, rng: Rng) => Float32Array);

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for Linear and Conv2d weights and biases. */
export const uniformFanIn: Initializer = (n, fanIn, rng) => rng.uniforms(n, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));

/** N(0, std²) with a fixed std. */
export const normalInit = (std: number): Initializer => (n, _fanIn, rng) => rng.normals(n, std);

/** N(0, scale/fanIn): He init (scale 2) for ReLU networks, LeCun (scale 1) for linear outputs. */
export const fanInNormal = (scale = 2): Initializer => (n, fanIn, rng) => rng.normals(n, Math.sqrt(scale / fanIn));

let shared = new Rng(0);

/** The Rng modules draw from when none is passed: seed it for reproducible default-built models. */
export function setInitSeed(seed: number): void { shared = new Rng(seed); }

export const defaultInitRng = (): Rng => shared;

/** Host values for a new tensor of `count` elements. */
export function initialValues(init: Initializer, count: number, fanIn: number, rng: Rng): Float32Array {
  if (init === 'zeros') return new Float32Array(count);
  if (init === 'ones') return new Float32Array(count).fill(1);
  const v = init(count, fanIn, rng);
  if (v.length !== count) throw new Error(`initializer returned ${v.length} values for a tensor of ${count}`);
  return v;
}
