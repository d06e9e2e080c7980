// The licence-plate detector and character reader (docs/plates.md). Browser-safe: the Node file
// helpers are in plate-file-node.ts.
export { fitAnchors } from './anchors.js';
export { averagePrecision, type PrecisionRecall } from './average-precision.js';
export { checkPlateDetectorConfig, DEFAULT_PLATE_DETECTOR, plateDetectorParamCount, plateDetectorParamShapes, PLATE_DETECTOR_LIMITS, type PlateDetectorConfig } from './config.js';
export { detectPlates, detectPlatesInBatch, type DetectPlatesOptions } from './detect-plates.js';
export { detectPlatesTiled, plateTileLevels, PLATE_TILE_DEFAULTS, type DetectPlatesTiledOptions, type TileLevel } from './detect-plates-tiled.js';
export { AP_SCORE_FLOOR, plateDetectorAp } from './evaluate.js';
export { yoloLoss, targetTensors, disposeTargets, type YoloTargetTensors } from './loss.js';
export { checkPlateDetectorBytes, plateDetectorFromBytes, plateDetectorToBytes, PLATE_DETECTOR_FORMAT } from './plate-file.js';
export { PlateDetector } from './plate-detector.js';
export { cellCrop, DEFAULT_READER, glyphDataset, newPlateReader, plateCrops, readPlate, READER_CROP, type PlacedPlate } from './reader.js';
export { readingChange, type ReadingChange } from './reading-change.js';
export { centredIou, DEFAULT_LOSS_WEIGHTS, yoloTargets, type YoloLossWeights, type YoloTargets } from './targets.js';
