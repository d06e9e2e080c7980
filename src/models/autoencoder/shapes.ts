/**
 * What an autoencoder config implies, computed from the config alone (nothing is allocated): the
 * layers of the coupling autoencoder's flow, every parameter's name and shape (what a model file
 * must carry exactly, docs/model-files.md), and an upper bound of one image's activations for the
 * memory budget. tests/models/autoencoder-file.test.ts checks the shapes against built models.
 */
import { layerConfig as cfg, type LayerConfig } from '../../layers/layer.js';
import { couplingNetShapes, layerShapes } from '../plan.js';
import { levelChannels, type AutoencoderConfig, type ConvVaeConfig, type CouplingAutoencoderConfig } from './config.js';

/** Factored channels of the coupling autoencoder: all 16C at H/4 × W/4 but the latent's. */
export const factoredChannels = (c: CouplingAutoencoderConfig): number => levelChannels(c.imageShape[0])[1] - c.latentChannels;

/**
 * The flow steps of a coupling autoencoder, level 0's then level 1's: actnorm, LU 1×1 (with the
 * config's permutation and signs when it has them) and a FInC-form affine coupling.
 */
export function couplingSteps(c: CouplingAutoencoderConfig): LayerConfig[] {
  const [c0, c1] = levelChannels(c.imageShape[0]);
  return Array.from({ length: 2 * c.steps }, (_, i) => {
    const ch = i < c.steps ? c0 : c1;
    return cfg({ kind: 'sequence', layers: [
      { name: 'actnorm', layer: cfg({ kind: 'actnorm', channels: ch }) },
      { name: 'conv1x1', layer: cfg({ kind: 'conv1x1-lu', channels: ch, ...(c.lu ? { perm: [...c.lu[i]!.perm], sign: [...c.lu[i]!.sign] } : {}) }) },
      { name: 'coupling', layer: cfg({ kind: 'affine-coupling', channels: ch, width: c.width, form: 'finc' }) },
    ] });
  });
}

/** The state-dict prefix of flow step i (the names CouplingAutoencoder's modules get). */
export const couplingStepPrefix = (c: CouplingAutoencoderConfig, i: number): string =>
  i < c.steps ? `flow.level0.${i}` : `flow.level1.${i - c.steps}`;

function couplingShapes(c: CouplingAutoencoderConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  couplingSteps(c).forEach((s, i) => layerShapes(out, couplingStepPrefix(c, i), s));
  couplingNetShapes(out, 'prior', c.latentChannels, 2 * factoredChannels(c), c.priorWidth, 0);
  return out;
}

/** The blocks of the conv VAE, walked as its constructor walks them (src/models/autoencoder/conv-vae.ts). */
function vaeShapes(c: ConvVaeConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const conv = (name: string, i: number, o: number, k: number) => out.set(`${name}.weight`, [o, i, k, k]).set(`${name}.bias`, [o]);
  const norm = (name: string, ch: number) => out.set(`${name}.weight`, [ch]).set(`${name}.bias`, [ch]);
  const block = (name: string, i: number, o: number) => {
    norm(`${name}.norm1`, i);
    conv(`${name}.conv1`, i, o, 3);
    norm(`${name}.norm2`, o);
    conv(`${name}.conv2`, o, o, 3);
    if (i !== o) conv(`${name}.skip`, i, o, 1);
  };
  const C = c.imageShape[0], chs = c.channelMults.map((m) => c.baseChannels * m), last = chs.length - 1;
  conv('encoder.conv_in', C, chs[0]!, 3);
  let ch = chs[0]!;
  chs.forEach((o, l) => {
    for (let b = 0; b < c.resBlocks; b++, ch = o) block(`encoder.down.${l}.block.${b}`, ch, o);
    if (l < last) conv(`encoder.down.${l}.downsample`, o, o, 3);
  });
  block('encoder.mid', ch, ch);
  norm('encoder.norm_out', ch);
  conv('encoder.conv_out', ch, 2 * c.latentChannels, 3);
  conv('decoder.conv_in', c.latentChannels, ch, 3);
  block('decoder.mid', ch, ch);
  // The decoder's levels are named in the order they run: up.0 is the deepest.
  for (let p = 0; p <= last; p++) {
    const o = chs[last - p]!;
    for (let b = 0; b <= c.resBlocks; b++, ch = o) block(`decoder.up.${p}.block.${b}`, ch, o);
    if (p < last) conv(`decoder.up.${p}.upsample`, o, o, 3);
  }
  norm('decoder.norm_out', ch);
  conv('decoder.conv_out', ch, C, 3);
  return out;
}

/** Every parameter of the autoencoder a config describes, by state-dict name, with its shape. */
export function autoencoderParamShapes(c: AutoencoderConfig): Map<string, number[]> {
  return c.kind === 'coupling-autoencoder' ? couplingShapes(c) : vaeShapes(c);
}

export function autoencoderParamCount(c: AutoencoderConfig): number {
  let n = 0;
  for (const s of autoencoderParamShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Bytes one image's encode, decode or reconstruct keeps alive at most (float32). The flow frees
 * each step's tensors as the next exists (src/layers/sequence.ts), so it holds a few maps of the
 * image's size plus one coupling network's hidden maps; the bound counts 16 image-sized maps and 8
 * of the widest network. The VAE's blocks run in one scope, so every map of every block counts:
 * 8 per block of its output size, the input and upsampled maps included.
 */
export function autoencoderActivationBytes(c: AutoencoderConfig): number {
  const [C, H, W] = c.imageShape, D = C * H * W;
  if (c.kind === 'coupling-autoencoder') {
    const hidden = Math.max(c.width * (H * W) / 4, c.priorWidth * (H * W) / 16);
    return 4 * (16 * D + 8 * hidden);
  }
  let maps = 8 * D;
  const chs = c.channelMults.map((m) => c.baseChannels * m);
  chs.forEach((ch, l) => {
    const size = (H * W) / 4 ** l;
    // Encoder and decoder blocks, a down- and an upsample at this level.
    maps += 8 * ch * size * (2 * c.resBlocks + 1) + 4 * ch * size;
  });
  const top = chs.at(-1)! * (H * W) / 4 ** (chs.length - 1);
  maps += 8 * top * 2 + 8 * c.latentChannels * (H * W) / 4 ** (chs.length - 1);
  return 4 * maps;
}
