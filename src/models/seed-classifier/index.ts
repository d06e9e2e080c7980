export { checkSeedClassifierConfig, defaultSeedClassifier, type SeedClassifierConfig } from './config.js';
export { SeedClassifier, type ForwardOptions, type McPrediction } from './classifier.js';
export { McDropout } from './mc-dropout.js';
