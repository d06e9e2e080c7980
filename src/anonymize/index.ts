// Hiding faces, licence plates (and given boxes) in photos: masks as in the Private IDD work and five fills (docs/anonymize.md).
// Browser-safe; the Node entry's anonymize (anonymize-node.ts) also loads the detector from disk.
export { anonymize, FILL_DEFAULTS, FILL_MODES, MAX_BLOCKS, MAX_TELEA_RADIUS, type AnonymizeOptions, type AnonymizeResult, type FillMode, type RegionDetection } from './anonymize.js';
export { buildMask, groupRegions, maskRect, MAX_DILATE, type Mask, type MaskOptions, type Rect, type Region } from './mask.js';
export { deidentifiedShare, descriptorDistances, distancesTo, faceDescriptors, SAME_PERSON_DISTANCE } from './deidentify.js';
export { checkIdentity, DEFAULT_FILL_TRIES, MAX_FILL_TRIES, type CheckedFace, type IdentityCheck } from './verify-identity.js';
