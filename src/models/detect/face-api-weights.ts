import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Engine } from '../../engine/engine.js';
import { ModelFileError } from '../../io/safetensors.js';
import { readTfjsWeights } from '../../io/tfjs-weights-file.js';
import { tinyFaceDetectorFromTfjs } from './detect-faces.js';
import { faceRecognitionNetFromTfjs } from './face-descriptor.js';
import { ssdMobilenetV1FromTfjs } from './detect-faces-ssd.js';
import { SSD_MOBILENET, type SsdMobilenetV1 } from './ssd-mobilenet.js';
import { FACE_RECOGNITION, type FaceRecognitionNet } from './face-recognition-net.js';
import { TINY_FACE, type TinyFaceDetector } from './tiny-face-detector.js';

/** The face-api release whose weights and outputs the detector was checked against. */
export const FACE_API_PACKAGE = '@vladmandic/face-api';
export const FACE_API_VERSION = '1.7.15';

/**
 * The `model/` folder of an installed @vladmandic/face-api (MIT; its weights are not copied into
 * inflow), or null when the package cannot be found from here. Node only.
 */
export function faceApiModelDir(): string | null {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${FACE_API_PACKAGE}/package.json`)), 'model');
  } catch {
    return null;
  }
}

/**
 * The manifest path for `weights`: a manifest file as it is, a folder holding `fileName`, or by
 * default the installed face-api's model folder.
 */
export function resolveManifest(weights: string | undefined, fileName: string): string {
  if (weights === undefined) {
    const dir = faceApiModelDir();
    if (!dir) throw new ModelFileError(`${fileName}: no weights given and ${FACE_API_PACKAGE} is not installed ` +
      `(npm install ${FACE_API_PACKAGE}@${FACE_API_VERSION}, or pass the folder that holds ${fileName})`);
    return join(dir, fileName);
  }
  if (typeof weights !== 'string' || weights === '') throw new ModelFileError(`weights = ${JSON.stringify(weights)} must be a folder or a manifest path`);
  let isDir = false;
  try {
    isDir = statSync(weights).isDirectory();
  } catch {
    // A missing path is reported by the reader, naming it.
  }
  return isDir ? join(weights, fileName) : weights;
}

export interface LoadDetectorOptions {
  /** A folder holding face-api's manifest and shard, or the manifest itself (default: the installed @vladmandic/face-api's model/). */
  weights?: string;
}

/** face-api's TinyFaceDetector weights read from disk (docs/face-detection.md §5) into a detector on `engine`. Node only. */
export async function loadTinyFaceDetector(engine: Engine, opts: LoadDetectorOptions = {}): Promise<TinyFaceDetector> {
  const manifest = resolveManifest(opts.weights, TINY_FACE.manifest);
  return tinyFaceDetectorFromTfjs(engine, await readTfjsWeights(manifest), manifest);
}

/** face-api's 128-d face descriptor network read from disk (docs/face-detection.md §7), like loadTinyFaceDetector. Node only. */
export async function loadFaceRecognitionNet(engine: Engine, opts: LoadDetectorOptions = {}): Promise<FaceRecognitionNet> {
  const manifest = resolveManifest(opts.weights, FACE_RECOGNITION.manifest);
  return faceRecognitionNetFromTfjs(engine, await readTfjsWeights(manifest), manifest);
}

/**
 * Where to find the recognition network given a detector's `weights`: the same folder, or the
 * installed package when `weights` names one manifest (which holds one network only).
 */
export function recognizerWeightsBeside(weights: string | undefined): LoadDetectorOptions {
  if (weights === undefined) return {};
  try {
    return statSync(weights).isDirectory() ? { weights } : {};
  } catch {
    return {};
  }
}

/** face-api's SSD-MobileNetV1 face detector read from disk (docs/face-detection.md §8), like loadTinyFaceDetector. Node only. */
export async function loadSsdMobilenetV1(engine: Engine, opts: LoadDetectorOptions = {}): Promise<SsdMobilenetV1> {
  const manifest = resolveManifest(opts.weights, SSD_MOBILENET.manifest);
  return ssdMobilenetV1FromTfjs(engine, await readTfjsWeights(manifest), manifest);
}
