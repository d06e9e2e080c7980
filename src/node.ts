/**
 * The package root for Node (package.json "exports" → "node"): the engine API plus model files
 * read from and written to paths.
 */
export * from './index.js';
export { inspectModelFile, loadModel, saveModel } from './io/model-file.js';
export { loadDiffusionModel, saveDiffusionModel } from './models/diffusion/diffusion-file.js';
export { parseModelBytes } from './io/model-bytes.js';
export { ModelFileError } from './io/safetensors.js';
// tfjs weight manifests from disk; face-api's detector weights from a folder or the installed package.
export { readTfjsWeights } from './io/tfjs-weights-file.js';
export { faceApiModelDir, loadFaceRecognitionNet, loadSsdMobilenetV1, loadTinyFaceDetector } from './models/detect/face-api-weights.js';
// anonymize() that loads the face detector from disk when none is passed (shadows the browser-safe one).
export { anonymize, type NodeAnonymizeOptions } from './anonymize/anonymize-node.js';
export { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from './models/plates/plate-file-node.js';
export * as training from './train/index.js';
// Data parallelism on worker threads (docs/thread-scaling.md §6): a FlowModel or UNet replicated, each batch split across the cores.
export { DataParallel, type DataParallelOptions, type DiffusionBatch, type ParallelStepOptions, type ParallelStepResult } from './parallel/data-parallel.js';
// Geological mapping (GeoTIFF files, so Node only): geo.geomap, geo.readGeoTiff, geo.makeScene, …
export * as geo from './geo/index.js';
// MNIST from the `mnist` dependency (it reads files): data for the examples and quick experiments.
export { loadMnist, mnistSplit, MNIST_SPLIT } from './data/mnist.js';
export { batchValues, type ImageDataset } from './data/dataset.js';
// The skimage sample photos (node scripts/fetch-photos.mjs puts them in .cache/photos), cut into patches.
export { loadPhotoPatches, photoSplit, PHOTO_PATCHES, PHOTO_SOURCES } from './data/photos.js';
// Seed purity (docs/seed-purity.md): procedural seed images, imbalanced MNIST, photos in class folders, the seed classifiers.
export { countsFromRatio, SEED_CLASSES, SEED_IMAGES, seedImages, seedSplit, type SeedDataset } from './data/seeds/index.js';
export { imbalancedMnist } from './data/imbalanced-mnist.js';
export { loadClassFolders } from './data/class-folders.js';
export { defaultSeedClassifier, SeedClassifier, type SeedClassifierConfig } from './models/seed-classifier/index.js';
export { loadSeedClassifier, saveSeedClassifier } from './io/seed-classifier-file.js';
export { loadGanGenerator, saveGanGenerator } from './models/gan/gan-file-node.js';
// Active learning (docs/active-learning.md): BALD, BatchBALD, max-entropy and random acquisition over MC-dropout probabilities, and the loop.
export { acquire, ACQUISITIONS, ActiveLearner, bald, batchBald, exactJointEntropy, maxEntropy, randomAcquisition, runActiveLearning, sampledJointEntropy, type AcquisitionName, type CurvePoint, type PoolProbs } from './active/index.js';
