import { Rng } from '../../src/data/rng.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { ConvVaeConfig, CouplingAutoencoderConfig } from '../../src/models/autoencoder/config.js';
import { tensorData, type TensorData } from '../../src/train/tensor-data.js';

/** A 1×8×8 coupling autoencoder: level 0 has 4 channels at 4×4, level 1 16 at 2×2, 4 of them kept. */
export const tinyCoupling = (over: Partial<CouplingAutoencoderConfig> = {}): CouplingAutoencoderConfig => ({
  kind: 'coupling-autoencoder', imageShape: [1, 8, 8], latentChannels: 4, steps: 2, width: 8, priorWidth: 8, ...over,
});

/** A 1×8×8 conv VAE with the same 4×2×2 latent. */
export const tinyVae = (over: Partial<ConvVaeConfig> = {}): ConvVaeConfig => ({
  kind: 'conv-vae', imageShape: [1, 8, 8], latentChannels: 4, baseChannels: 4, channelMults: [1, 2, 2], resBlocks: 1, groups: 2, ...over,
});

/**
 * n smooth C×S×S images in [−1, 1]: a bright Gaussian blob at a random place and width on a dark
 * background, so neighbouring pixels are predictable as in digits and an autoencoder can learn them.
 */
export function blobs(n: number, shape: readonly [number, number, number], seed = 3): Float32Array {
  const [C, H, W] = shape, rng = new Rng(seed), out = new Float32Array(n * C * H * W);
  for (let i = 0; i < n; i++) {
    const cy = rng.uniform() * H, cx = rng.uniform() * W, r = 1 + rng.uniform() * H / 3;
    for (let c = 0; c < C; c++) {
      const gain = 0.5 + 0.5 * rng.uniform();
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) out[((i * C + c) * H + y) * W + x] = -1 + 2 * gain * Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r));
    }
  }
  return out;
}

export const blobData = (n: number, shape: readonly [number, number, number], seed = 3): TensorData => tensorData(blobs(n, shape, seed), shape);

export const blobBatch = (engine: Engine, n: number, shape: readonly [number, number, number], seed = 3): Tensor =>
  engine.tensor(blobs(n, shape, seed), [n, ...shape]);
