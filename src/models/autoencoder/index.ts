// Affine-StableSR's autoencoders (docs/affine-stablesr.md): the coupling-layer autoencoder, the conv VAE it is compared with, their
// model files as bytes. Browser-safe: Node's path-based saveAutoencoder / loadAutoencoder are in ./autoencoder-file.ts.
export { autoencoderFromBytes, buildAutoencoder, checkAutoencoderBytes, type Autoencoder, type CheckedAutoencoderBytes } from './autoencoder-bytes.js';
export {
  AUTOENCODER_LIMITS, checkAutoencoderConfig, defaultConvVaeConfig, defaultCouplingConfig, latentShapeOf,
  type AutoencoderConfig, type AutoencoderKind, type ConvVaeConfig, type CouplingAutoencoderConfig, type LuFields,
} from './config.js';
export { ConvVae } from './conv-vae.js';
export { CouplingAutoencoder } from './coupling-autoencoder.js';
export { AUTOENCODER_FORMAT, encodeAutoencoder } from './format.js';
export type { AutoencoderLoss, LatentAutoencoder, TrainableAutoencoder } from './latent-autoencoder.js';
export { batchPsnr, psnrOfMse } from './psnr.js';
export { autoencoderActivationBytes, autoencoderParamCount, autoencoderParamShapes } from './shapes.js';
