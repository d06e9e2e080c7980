// face-api on tfjs as the test oracle (never used at run time). Its Node build for wasm requires
// '@tensorflow/tfjs', the umbrella package, which inflow does not install; it only needs tfjs-core's
// ops and the backends, so the bundle is evaluated with a require that hands it tfjs-core instead.
// tfjs-core's Node bundle leaves out the chained tensor methods (t.div(255), t.as3D(…)) that the
// umbrella package registers; the few face-api calls are added below as plain forwards to the ops.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
export const faceApiDir = dirname(require.resolve('@vladmandic/face-api/package.json'));
export const faceApiModels = join(faceApiDir, 'model');
export const faceApiSample = (i: number): string => join(faceApiDir, 'demo', `sample${i}.jpg`);

/** The chained methods tfjs' umbrella package adds to Tensor, as forwards to the tfjs-core ops. */
function addChainedOps(): void {
  type Fn = (...a: unknown[]) => unknown;
  const proto = tf.Tensor.prototype as unknown as Record<string, Fn>;
  const ops = tf as unknown as Record<string, Fn>;
  const names = ['abs', 'add', 'argMax', 'cast', 'clipByValue', 'div', 'exp', 'expandDims', 'gather', 'matMul', 'max', 'maximum',
    'mean', 'min', 'minimum', 'mul', 'neg', 'pad', 'relu', 'reshape', 'sigmoid', 'slice', 'softmax', 'sqrt', 'square', 'squeeze',
    'sub', 'sum', 'tile', 'transpose', 'unstack'];
  for (const n of names) if (!proto[n]) proto[n] = function (this: tf.Tensor, ...a: unknown[]) { return ops[n]!(this, ...a); };
  for (let r = 1; r <= 5; r++) proto[`as${r}D`] ??= function (this: tf.Tensor, ...s: unknown[]) { return tf.reshape(this, r === 1 ? [this.size] : s as number[]); };
  proto.asType ??= function (this: tf.Tensor, d: unknown) { return tf.cast(this, d as tf.DataType); };
  proto.flatten ??= function (this: tf.Tensor) { return tf.reshape(this, [this.size]); };
  proto.concat ??= function (this: tf.Tensor, x: unknown, axis: unknown) {
    return tf.concat([this, ...(Array.isArray(x) ? x : [x])] as tf.Tensor[], axis as number);
  };
}

export interface OracleFace { x: number; y: number; width: number; height: number; score: number }

export interface FaceApiOracle {
  backend: string;
  /** face-api's module itself, for callers that time its calls on tensors made beforehand (bench/detect.ts). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api: any;
  /** TinyFaceDetector's raw output grid [1, S/32, S/32, 25] for an S × S RGB input (NHWC). */
  forward(rgb: Uint8Array, size: number): Promise<Float32Array>;
  /** face-api's 128-d descriptor of an RGB face crop (its own padding and resizing to 150 × 150). */
  describe(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Float32Array>;
  /** TinyFaceDetector on an RGB photo (interleaved bytes), boxes in its pixels. */
  detect(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, inputSize: number, scoreThreshold?: number): Promise<OracleFace[]>;
  /** SSD-MobileNetV1 (weights loaded on first use) on an RGB photo, boxes in its pixels. */
  detectSsd(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, minConfidence?: number): Promise<OracleFace[]>;
  /** SSD-MobileNetV1's decoded boxes [5118 × 4] (unclipped, square units) and scores [5118] for an RGB photo. */
  forwardSsd(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<{ boxes: Float32Array; scores: Float32Array }>;
}

let loaded: Promise<FaceApiOracle> | null = null;

/** face-api 1.7.15 on tfjs 4.22 ('wasm' reads its .wasm from node_modules; nothing is fetched). */
export function faceApiOracle(backend: 'wasm' | 'cpu' = 'wasm'): Promise<FaceApiOracle> {
  loaded ??= (async () => {
    addChainedOps();
    const file = join(faceApiDir, 'dist', 'face-api.node-wasm.js');
    const mod: { exports: Record<string, unknown> } = { exports: {} };
    const req = (name: string): unknown => (name === '@tensorflow/tfjs' ? tf : name === '@tensorflow/tfjs-backend-wasm' ? tfWasm : require(name));
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function('require', 'module', 'exports', '__filename', '__dirname', readFileSync(file, 'utf8'))(req, mod, mod.exports, file, dirname(file));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const faceapi = mod.exports as any;
    tfWasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    if (!(await tf.setBackend(backend))) throw new Error(`face-api oracle: the tfjs ${backend} backend did not start`);
    await tf.ready();
    await faceapi.nets.tinyFaceDetector.loadFromDisk(faceApiModels);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(faceApiModels);
    const ssd = async () => {
      if (!faceapi.nets.ssdMobilenetv1.isLoaded) await faceapi.nets.ssdMobilenetv1.loadFromDisk(faceApiModels);
      return faceapi.nets.ssdMobilenetv1;
    };
    return {
      backend: tf.getBackend(),
      async detectSsd(rgb, width, height, minConfidence = 0.5) {
        await ssd();
        const t = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
        try {
          const dets = await faceapi.detectAllFaces(t, new faceapi.SsdMobilenetv1Options({ minConfidence }));
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          return dets.map((d: any) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
        } finally {
          t.dispose();
        }
      },
      async forwardSsd(rgb, width, height) {
        const net = await ssd();
        const t = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
        try {
          const out = await net.forward(t) as { boxes: tf.Tensor[]; scores: tf.Tensor[] };
          const boxes = await out.boxes[0]!.data() as Float32Array, scores = await out.scores[0]!.data() as Float32Array;
          for (const x of [...out.boxes, ...out.scores]) x.dispose();
          return { boxes, scores };
        } finally {
          t.dispose();
        }
      },
      api: faceapi,
      async describe(rgb, width, height) {
        const t = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
        try {
          return Float32Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t) as Float32Array);
        } finally {
          t.dispose();
        }
      },
      async forward(rgb, size) {
        const t = tf.tensor3d(Int32Array.from(rgb), [size, size, 3], 'int32');
        try {
          const out = await faceapi.nets.tinyFaceDetector.forward(t, size) as tf.Tensor;
          const values = await out.data() as Float32Array;
          out.dispose();
          return values;
        } finally {
          t.dispose();
        }
      },
      async detect(rgb, width, height, inputSize, scoreThreshold = 0.5) {
        const t = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
        try {
          const dets = await faceapi.detectAllFaces(t, new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold }));
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          return dets.map((d: any) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
        } finally {
          t.dispose();
        }
      },
    };
  })();
  return loaded;
}
