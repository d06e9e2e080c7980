/** Messages between the demo page (main.ts) and the engine worker (worker.ts). */

export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

export type Request =
  /** modelUrl is absolute: a worker's own URL is no base for the page's relative links. */
  | { id: number; type: 'init'; backend: BackendChoice; modelUrl: string; wasmBase?: string }
  /** labels: the class of every image, for a model with a class prior (omitted: drawn at random). */
  | { id: number; type: 'sample'; n: number; temperature: number; seed: number; labels?: number[] }
  | { id: number; type: 'score'; pixels: Float32Array }
  /** Loads (or reuses) the diffusion model of an image task; modelUrl absolute, as for init. */
  | { id: number; type: 'task-load'; task: ImageTask; modelUrl: string }
  | ({ id: number; type: 'task-run' } & TaskRun)
  /** Hides the faces of one photo (web/anonymize-worker.ts); detectorUrl absolute, as for init. */
  | ({ id: number; type: 'anonymize' } & AnonymizeRun);

/** The image tasks of the diffusion models (src/models/diffusion/pipelines.ts). */
export type ImageTask = 'upscale' | 'restore' | 'inpaint';

/** Pixels 0…255, planar [n, C, H, W]. */
export interface Pixels {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** One run of a task on one source image (any size, grey or RGB); the worker brings it to the model's size. */
export interface TaskRun {
  task: ImageTask;
  source: Pixels;
  steps?: number;
  seed: number;
  /** restore: the degradation applied to the source first (null: the source is already degraded), at this strength. */
  degradation?: string | null;
  strength?: number;
  /** inpaint: a preset region (task-inputs.ts) or 'drawn' with `drawnMask` (any size, white = fill). */
  mask?: string;
  drawnMask?: Pixels;
  jumpLength?: number;
  resampleCount?: number;
}

/** The photo panel's fills: the library's classical modes (the learned one needs a face model the demo does not have). */
export type PhotoFill = 'blur' | 'pixelate' | 'solid' | 'telea';

/** One photo to anonymise: RGBA bytes at full size, as a canvas gives them. */
export interface AnonymizeRun {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  mode: PhotoFill;
  /** face-api's tiny_face_detector_model-weights_manifest.json (its shard beside it). */
  detectorUrl: string;
  /** Also hide licence plates, with the plate detector file at plateDetectorUrl (absolute). */
  plates?: boolean;
  plateDetectorUrl?: string;
  /** Measure each hidden face against its original with face-api's recognition network at this manifest URL (docs/anonymize.md §4.2). */
  recognizerUrl?: string;
}

export interface AnonymizeReply {
  /** The anonymised photo, RGBA, the input's size; alpha as given. */
  rgba: Uint8ClampedArray;
  /** Faces above the threshold in the photo's pixels, best first. */
  boxes: { x: number; y: number; width: number; height: number; score: number }[];
  /** Licence plates likewise (empty unless asked for). */
  plates: { x: number; y: number; width: number; height: number; score: number }[];
  /** The filled rectangles, [x0, y0, x1, y1) (src/anonymize/mask.ts). */
  regions: { x0: number; y0: number; x1: number; y1: number }[];
  /** With recognizerUrl: each face's descriptor distance to its original, in the order of boxes (above 0.6: no longer matched). */
  distances?: number[];
  /** With recognizerUrl: the distance at or below which a face still matches (face-api's 0.6). */
  samePersonDistance?: number;
  /** Downloading and building the detectors (0 when they were loaded already), and the run itself. */
  detectorMs: number;
  ms: number;
}

export interface TaskSummary {
  task: ImageTask;
  /** [C, H, W] of the model's images (an upscale's output, the image restored or filled). */
  imageShape: [number, number, number];
  /** upscale: the factor and the [H, W] of the low-resolution input. */
  scale: number | null;
  lowRes: [number, number] | null;
  /** restore: the degradations the model was trained on. */
  degradations: string[];
  /** inpaint: a model trained for it, or RePaint with a generation model. */
  method: 'mask-conditioned' | 'repaint' | null;
  latent: boolean;
  classes: number;
  /** The model file's default sampler steps. */
  steps: number;
  params: number;
  loadMs: number;
}

export interface TaskResult {
  task: ImageTask;
  /** The source at the model's size (upscale: the high-resolution image, or null when the source was the low-resolution one). */
  reference: Pixels | null;
  /** What the model was given: the low-resolution, degraded or masked image (the hole shown mid-grey). */
  input: Pixels;
  /** inpaint: the mask at the image's size, 0 keep / 255 fill. */
  mask: Float32Array | null;
  output: Pixels;
  /** Denoiser calls. */
  calls: number;
  ms: number;
}

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
  | { id: number; type: 'task-load'; result: TaskSummary }
  | { id: number; type: 'task-run'; result: TaskResult }
  | { id: number; type: 'anonymize'; result: AnonymizeReply }
  /** Sent during a task-run (not a reply: the request is still running). */
  | { id: number; type: 'progress'; done: number; total: number }
  | { id: number; type: 'error'; message: string };
