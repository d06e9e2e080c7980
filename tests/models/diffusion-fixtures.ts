import { Rng } from '../../src/data/rng.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig } from '../../src/models/diffusion/schema.js';

/** A 1×8×8 UNet with 3 classes: small enough for the float64 reference backend. */
export const tinyConfig = (T = 25, classes = 3): DiffusionModelConfig => ({
  kind: 'diffusion-model',
  unet: { kind: 'unet', imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [4], heads: 2, groups: 4, dropout: 0, classes },
  schedule: { kind: 'linear', steps: T },
  sampler: { method: 'ddim', steps: Math.min(10, T), eta: 0, guidance: classes ? 2 : 1 },
});

/** The same UNet conditioned on a `cond`-channel 8×8 image (task 'super-resolution'), with `classes` classes (default none). */
export const condConfig = (cond: number, classes = 0, T = 25): DiffusionModelConfig => {
  const c = tinyConfig(T, classes);
  return { ...c, unet: { ...c.unet, condChannels: cond }, conditioning: { kind: 'image', channels: cond, task: 'super-resolution' } };
};

/**
 * A fresh UNet ignores t and the label: its residual blocks' second convolutions, attention
 * projections and output convolution start at zero. Random values there make every layer count.
 */
export function randomizeOutput(model: DiffusionModel, seed = 4): void {
  const rng = new Rng(seed);
  for (const [name, p] of model.unet.namedParams())
    if (/(conv2|proj|out_conv)\.weight$/.test(name)) p.value = model.engine.tensor(rng.uniforms(p.size, -0.2, 0.2), p.shape);
}

/** A tensor's values in float64 on the host; the tensor is disposed. */
export const values = async (t: Tensor): Promise<Float64Array> => {
  const size = t.size, v = await t.data64();
  t.dispose();
  return v.slice(0, size);
};

export const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
