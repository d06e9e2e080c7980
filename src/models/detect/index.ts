// Detectors with pretrained weights from other frameworks, run on inflow's engine (docs/face-detection.md).
// Browser-safe: the Node file loaders are in face-api-weights.ts (exported from src/node.ts).
export { iou, type Box, type Detection } from './box.js';
export { detectFaces, tinyFaceDetectorFromTfjs, MAX_DETECT_INPUT, type DetectFacesOptions } from './detect-faces.js';
export { cropBox } from './crop.js';
export { descriptorDistance, faceDescriptor, faceRecognitionNetFromTfjs } from './face-descriptor.js';
export { FACE_RECOGNITION, FaceRecognitionNet, faceRecognitionStateDict } from './face-recognition-net.js';
export { fetchFaceRecognitionNet, fetchSsdMobilenetV1, fetchTinyFaceDetector } from './fetch-weights.js';
export { checkRgbImage, type RgbImage } from './image.js';
export { letterbox, type Letterboxed } from './letterbox.js';
export { nonMaxSuppression } from './nms.js';
export { SeparableConv3x3 } from './separable-conv.js';
export { TINY_FACE, TinyFaceDetector, tinyFaceStateDict } from './tiny-face-detector.js';
export { detectFacesSsd, ssdMobilenetV1FromTfjs, type DetectFacesSsdOptions } from './detect-faces-ssd.js';
export { decodeSsd, type SsdDecodeOptions } from './ssd-decode.js';
export { SSD_MOBILENET, SSD_PRIORS, SsdMobilenetV1, ssdMobilenetStateDict, type SsdOutput } from './ssd-mobilenet.js';
export { decodeYoloGrid, type YoloDecodeOptions } from './yolo-decode.js';
