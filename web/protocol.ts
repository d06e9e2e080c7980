/** Messages between the demo page (main.ts) and the engine worker (worker.ts). */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export type Request =
  /** modelUrl is absolute: a worker's own URL is no base for the page's relative links. */
  | { id: number; type: 'init'; backend: BackendChoice; modelUrl: string; wasmBase?: string }
  | { id: number; type: 'sample'; n: number; temperature: number; seed: number }
  | { id: number; type: 'score'; pixels: Float32Array };

export interface EngineSummary {
  backend: string;
  why: string;
  details: Record<string, unknown>;
  rejected: Record<string, string>;
  fallbacks: string[];
  /** [C, H, W] the model takes. */
  inputShape: [number, number, number];
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
  ms: number;
}

export type Reply =
  | { id: number; type: 'init'; result: EngineSummary }
  | { id: number; type: 'sample'; result: Samples }
  | { id: number; type: 'score'; result: Score }
  | { id: number; type: 'error'; message: string };
