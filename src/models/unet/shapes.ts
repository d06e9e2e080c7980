import type { UNetConfig } from './config.js';

/**
 * The UNet's parameters by name and shape, from its config alone (nothing is allocated): what a
 * diffusion model file must carry exactly (docs/model-files.md). It walks the levels as the UNet
 * constructor does (src/models/unet/unet.ts); tests/models/diffusion-model.test.ts checks the two
 * agree for several configs.
 */
export function unetParamShapes(c: UNetConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const base = c.baseChannels, embDim = 4 * base;
  const linear = (name: string, i: number, o: number) => out.set(`${name}.weight`, [i, o]).set(`${name}.bias`, [o]);
  const conv = (name: string, i: number, o: number, k: number) => out.set(`${name}.weight`, [o, i, k, k]).set(`${name}.bias`, [o]);
  const norm = (name: string, ch: number) => out.set(`${name}.weight`, [ch]).set(`${name}.bias`, [ch]);
  const stage = (name: string, i: number, o: number, attention: boolean) => {
    norm(`${name}.res.norm1`, i);
    conv(`${name}.res.conv1`, i, o, 3);
    linear(`${name}.res.emb`, embDim, o);
    norm(`${name}.res.norm2`, o);
    conv(`${name}.res.conv2`, o, o, 3);
    if (i !== o) conv(`${name}.res.skip`, i, o, 1);
    if (attention) {
      norm(`${name}.attn.norm`, o);
      conv(`${name}.attn.q`, o, o, 1);
      conv(`${name}.attn.kv`, o, 2 * o, 1);
      conv(`${name}.attn.proj`, o, o, 1);
    }
  };
  linear('time_embed1', base, embDim);
  linear('time_embed2', embDim, embDim);
  if (c.classes > 0) out.set('class_embed.weight', [c.classes + 1, embDim]);
  // The first convolution sees concat(x_t, cond) along channels.
  conv('in_conv', c.inChannels + (c.condChannels ?? 0), base, 3);
  const saved = [base];
  let ch = base, size = c.imageSize, down = 0, up = 0;
  c.channelMults.forEach((mult, level) => {
    for (let b = 0; b < c.resBlocks; b++) {
      stage(`down.${down++}`, ch, base * mult, c.attentionResolutions.includes(size));
      ch = base * mult;
      saved.push(ch);
    }
    if (level < c.channelMults.length - 1) {
      conv(`down.${down++}.conv`, ch, ch, 3);
      saved.push(ch);
      size /= 2;
    }
  });
  stage('middle.0', ch, ch, true);
  stage('middle.1', ch, ch, false);
  [...c.channelMults].reverse().forEach((mult, i) => {
    const level = c.channelMults.length - 1 - i;
    for (let b = 0; b <= c.resBlocks; b++) {
      stage(`up.${up++}`, ch + saved.pop()!, base * mult, c.attentionResolutions.includes(size));
      ch = base * mult;
    }
    if (level > 0) {
      conv(`up.${up++}.conv`, ch, ch, 3);
      size *= 2;
    }
  });
  norm('out_norm', ch);
  conv('out_conv', ch, c.outChannels, 3);
  return out;
}

/** Total parameters of a UNet config. */
export function unetParamCount(c: UNetConfig): number {
  let n = 0;
  for (const s of unetParamShapes(c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Upper estimate of one image's live activations in a forward pass without gradients (sampling),
 * in bytes: every stage keeps its input, its two convolutions' outputs, the norms and activations
 * and the skip it saves (about 9 maps of its channels and size, float32, ×2 for temporaries), and
 * attention its score matrix (heads · S⁴ at side S). Measured: 1.1–1.3× what a pass holds at once
 * (tests/models/diffusion-model.test.ts).
 */
export function unetActivationBytes(c: UNetConfig): number {
  // An image condition adds itself and its concatenation with x_t.
  const cond = c.condChannels ?? 0;
  let floats = cond > 0 ? (c.inChannels + 2 * cond) * c.imageSize ** 2 : 0, size = c.imageSize;
  c.channelMults.forEach((mult, level) => {
    const ch = c.baseChannels * mult, blocks = 2 * c.resBlocks + 1;
    floats += blocks * 9 * 2 * ch * size * size;
    if (c.attentionResolutions.includes(size)) floats += blocks * 2 * c.heads * size ** 4;
    if (level === c.channelMults.length - 1) floats += 2 * 9 * 2 * ch * size * size + 2 * c.heads * size ** 4;
    else size /= 2;
  });
  return 4 * floats;
}
