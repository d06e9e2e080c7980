export { countsFromRatio, SEED_CLASSES, SEED_SIZES, SEED_VIEWS, type SeedClass, type SeedView } from './classes.js';
export { SEED_IMAGES, seedImages, seedSplit, type SeedDataset, type SeedImageOptions } from './dataset.js';
export { renderSeed, imageRng } from './render.js';
