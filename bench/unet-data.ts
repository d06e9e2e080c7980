// What the unet suite and the one-off WebGPU UNet scripts share: the bundled-size config, the ε-loss
// data of tests/models/unet.test.ts and inflow's ε-loss training step. Kept apart from unet.ts so
// the one-off scripts do not load tfjs or onnxruntime.
import { mean, square, sub, type Tensor } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import type { UNetConfig } from '../src/models/unet/config.js';
import type { UNet } from '../src/models/unet/unet.js';
import type { Optimizer } from '../src/train/optimizer.js';

/** The UNet of tests/models/unet.test.ts: 3.6 M parameters at 32×32. */
export const CONFIG: Partial<UNetConfig> = { baseChannels: 48, groups: 16 };

/** ε-loss data as in the UNet test: noised images, their noise and their timesteps, from seeds. */
export function unetData(c: UNetConfig, batch: number) {
  const rng = new Rng(2);
  const per = c.inChannels * c.imageSize * c.imageSize, n = batch * per;
  const clean = rng.uniforms(n, -1, 1), noise = rng.normals(n, 1);
  const t = Array.from({ length: batch }, (_, i) => (i * 97) % 1000);
  const alpha = t.map((ti) => Math.cos(((ti / 1000) * Math.PI) / 2));
  const noisy = clean.map((v, i) => alpha[Math.floor(i / per)]! * v + Math.sqrt(1 - alpha[Math.floor(i / per)]! ** 2) * noise[i]!);
  return { x: noisy, eps: noise, t, shape: [batch, c.inChannels, c.imageSize, c.imageSize] };
}

/** mean((UNet(x, t) − ε)²). */
export const epsLoss = (unet: UNet, x: Tensor, t: number[], eps: Tensor): Tensor => mean(square(sub(unet.forward(x, t), eps)));

/** One training step: the ε-loss and its gradients, then an optimiser step at lr 1e-3; returns the loss. */
export async function inflowTrainStep(unet: UNet, opt: Optimizer, x: Tensor, t: number[], eps: Tensor): Promise<number> {
  const params = unet.parameters();
  const { value, grads } = unet.engine.valueAndGrads(() => epsLoss(unet, x, t, eps), params.map((p) => p.value));
  const loss = await value.item();
  value.dispose();
  opt.step(params, grads, 1e-3);
  for (const g of grads) g.dispose();
  return loss;
}
