/** Messages between the demo page (main.ts) and the engine worker (worker.ts). */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export type Request =
  /** modelUrl is absolute: a worker's own URL is no base for the page's relative links. */
  | { id: number; type: 'init'; backend: BackendChoice; modelUrl: string; wasmBase?: string }
  /** labels: the class of every image, for a model with a class prior (omitted: drawn at random). */
  | { id: number; type: 'sample'; n: number; temperature: number; seed: number; labels?: number[] }
  | { id: number; type: 'score'; pixels: Float32Array };

export interface EngineSummary {
  backend: string;
  why: string;
  details: Record<string, unknown>;
  rejected: Record<string, string>;
  fallbacks: string[];
  /** [C, H, W] the model takes. */
  inputShape: [number, number, number];
  /** Classes of the model's class prior; 0 without one. */
  classes: number;
  loadMs: number;
}

export interface Samples {
  /** Pixels in [0, 256), n × C × H × W. */
  pixels: Float32Array;
  /** The same samples in the flow's logit space, before the pixel map (compared across backends by the tests). */
  flow: Float32Array;
  shape: [number, number, number, number];
  ms: number;
}

export interface Score {
  bitsPerDim: number;
  /** decode(encode(x)) as pixels. */
  reconstruction: Float32Array;
  /** p(y | x) under a model with a class prior (Bayes' rule on its exact densities); empty without one. */
  classProbs: number[];
  ms: number;
}

export type Reply =
  | { id: number; type: 'init'; result: EngineSummary }
  | { id: number; type: 'sample'; result: Samples }
  | { id: number; type: 'score'; result: Score }
  | { id: number; type: 'error'; message: string };
