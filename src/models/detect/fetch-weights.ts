import type { Engine } from '../../engine/engine.js';
import { fetchTfjsWeights } from '../../io/tfjs-weights-url.js';
import { tinyFaceDetectorFromTfjs } from './detect-faces.js';
import { faceRecognitionNetFromTfjs } from './face-descriptor.js';
import type { FaceRecognitionNet } from './face-recognition-net.js';
import { ssdMobilenetV1FromTfjs } from './detect-faces-ssd.js';
import type { SsdMobilenetV1 } from './ssd-mobilenet.js';
import type { TinyFaceDetector } from './tiny-face-detector.js';

/**
 * face-api's TinyFaceDetector weights downloaded from `manifestUrl` (a page serves
 * tiny_face_detector_model-weights_manifest.json and its .bin side by side) into a detector on
 * `engine`. Browser and Node alike; in Node, loadTinyFaceDetector reads them from disk.
 */
export async function fetchTinyFaceDetector(engine: Engine, manifestUrl: string | URL): Promise<TinyFaceDetector> {
  return tinyFaceDetectorFromTfjs(engine, await fetchTfjsWeights(manifestUrl), String(manifestUrl));
}

/** face-api's descriptor network downloaded from `manifestUrl` (face_recognition_model-weights_manifest.json and its .bin). */
export async function fetchFaceRecognitionNet(engine: Engine, manifestUrl: string | URL): Promise<FaceRecognitionNet> {
  return faceRecognitionNetFromTfjs(engine, await fetchTfjsWeights(manifestUrl), String(manifestUrl));
}

/** face-api's SSD-MobileNetV1 downloaded from `manifestUrl` (ssd_mobilenetv1_model-weights_manifest.json and its .bin). */
export async function fetchSsdMobilenetV1(engine: Engine, manifestUrl: string | URL): Promise<SsdMobilenetV1> {
  return ssdMobilenetV1FromTfjs(engine, await fetchTfjsWeights(manifestUrl), String(manifestUrl));
}
