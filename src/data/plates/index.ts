// Synthetic Indian-style licence plates for training and testing the plate detector and reader (docs/plates.md).
export { CHARSET, glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from './font.js';
export { homography, project, rectQuad, type Point, type Quad } from './homography.js';
export { isInk, plateLayout, PLATE_UNITS, type Cell, type PlateLayout } from './layout.js';
export { pasteSurface, surfaceQuad, type Surface } from './paste.js';
export { positionKinds, randomPlateGroups, STATE_CODES, type PlateGroups } from './plate-text.js';
export { plateScene, PLATE_WIDTH_RANGE, type PlateInstance, type PlateScene, type PlateSceneOptions, type PlateStyle } from './scene.js';
export { plateScenes, PLATE_SPLITS, type PlateSceneSet, type PlateScenesOptions } from './dataset.js';
export { syntheticBackground } from './background.js';
