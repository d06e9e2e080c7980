// How the image-conditioned diffusion tasks make their training conditions (docs/diffusion.md, "Training the tasks").
export { inpaintingConditioner } from './inpainting.js';
export { restorationConditioner } from './restoration.js';
export { lowResolutionConditions, superResolutionConditioner } from './super-resolution.js';
