// The diffusion UNet of src/models/unet as an ONNX graph (NCHW, opset 21 for GroupNormalization),
// built from the same UNetConfig with inflow's weights by name, for onnxruntime-node. The sinusoidal
// timestep embedding is a second input, computed on the host as inflow computes it; a
// class-conditional UNet takes int64 `labels` [N] (a Gather from the class embedding, added to the
// time embedding), an image-conditioned one `cond` [N, condChannels, S, S] (concatenated to x).
import type { UNetConfig } from '../../src/models/unet/config.js';
import { attention, conv, groupNorm, OnnxGraph } from './onnx.js';
import type { HostWeights } from './tfjs-flow.js';

export function unetModel(c: UNetConfig, batch: number, weights: HostWeights): Uint8Array {
  if (c.dropout > 0) throw new Error('onnx unet: UNets with dropout are not built');
  const g = new OnnxGraph('unet');
  const base = c.baseChannels, N = batch;
  const get = (name: string) => {
    const h = weights.get(name);
    if (!h) throw new Error(`onnx unet: no weight '${name}'`);
    return h;
  };
  const w = (name: string) => g.init(name, get(name).shape, get(name).data);
  const silu = (x: string) => g.op('Mul', [x, g.op('Sigmoid', [x])]);
  const linear = (p: string, x: string) => g.op('Add', [g.op('MatMul', [x, w(`${p}.weight`)]), w(`${p}.bias`)]);
  const convP = (p: string, x: string, stride = 1, out?: string) => {
    const k = get(`${p}.weight`).shape[2]!;
    return conv(g, x, w(`${p}.weight`), w(`${p}.bias`), { k, stride, pad: (k - 1) / 2 }, out);
  };
  const norm = (p: string, x: string) => groupNorm(g, x, c.groups, get(`${p}.weight`).data, get(`${p}.bias`).data);

  const x = g.input('x', [N, c.inChannels, c.imageSize, c.imageSize]);
  const temb = g.input('temb', [N, base]);
  let emb = linear('time_embed2', silu(linear('time_embed1', temb)));
  if (c.classes > 0) emb = g.op('Add', [emb, g.op('Gather', [w('class_embed.weight'), g.input('labels', [N], 'int64')], { axis: 0 })]);
  const condCh = c.condChannels ?? 0;
  const input = condCh > 0 ? g.op('Concat', [x, g.input('cond', [N, condCh, c.imageSize, c.imageSize])], { axis: 1 }) : x;

  const res = (p: string, h: string, inCh: number, outCh: number) => {
    let y = convP(`${p}.conv1`, silu(norm(`${p}.norm1`, h)));
    y = g.op('Add', [y, g.op('Reshape', [linear(`${p}.emb`, silu(emb)), g.ints('emb_shape', [N, outCh, 1, 1])])]);
    y = convP(`${p}.conv2`, silu(norm(`${p}.norm2`, y)));
    return g.op('Add', [inCh !== outCh ? convP(`${p}.skip`, h) : h, y]);
  };
  const attn = (p: string, h: string, C: number, S: number) => {
    const heads = c.heads, d = C / heads;
    const n = norm(`${p}.norm`, h);
    // [N, C, S, S] → [N, heads, S·S, d], channel c = head·d + j as inflow splits them.
    const split = (t: string) => g.op('Transpose', [g.op('Reshape', [t, g.ints('heads_shape', [N, heads, d, S * S])])], { perm: [0, 1, 3, 2] });
    const kv = convP(`${p}.kv`, n);
    const part = (start: number) => g.op('Slice', [kv, g.ints('starts', [start]), g.ints('ends', [start + C]), g.ints('axes', [1])]);
    const o = attention(g, split(convP(`${p}.q`, n)), split(part(0)), split(part(C)), 1 / Math.sqrt(d), 4);
    const merged = g.op('Reshape', [g.op('Transpose', [o], { perm: [0, 1, 3, 2] }), g.ints('merge_shape', [N, C, S, S])]);
    return g.op('Add', [h, convP(`${p}.proj`, merged)]);
  };

  // The construction order of src/models/unet/unet.ts, which fixes the names and the skips.
  let h = convP('in_conv', input);
  const skips: Array<{ t: string; ch: number }> = [{ t: h, ch: base }];
  let ch = base, size = c.imageSize, down = 0, up = 0;
  c.channelMults.forEach((mult, level) => {
    for (let b = 0; b < c.resBlocks; b++, down++) {
      h = res(`down.${down}.res`, h, ch, base * mult);
      ch = base * mult;
      if (c.attentionResolutions.includes(size)) h = attn(`down.${down}.attn`, h, ch, size);
      skips.push({ t: h, ch });
    }
    if (level < c.channelMults.length - 1) {
      h = convP(`down.${down++}.conv`, h, 2);
      skips.push({ t: h, ch });
      size /= 2;
    }
  });
  h = attn('middle.0.attn', res('middle.0.res', h, ch, ch), ch, size);
  h = res('middle.1.res', h, ch, ch);
  [...c.channelMults].reverse().forEach((mult, i) => {
    const level = c.channelMults.length - 1 - i;
    for (let b = 0; b <= c.resBlocks; b++, up++) {
      const skip = skips.pop()!;
      h = res(`up.${up}.res`, g.op('Concat', [h, skip.t], { axis: 1 }), ch + skip.ch, base * mult);
      ch = base * mult;
      if (c.attentionResolutions.includes(size)) h = attn(`up.${up}.attn`, h, ch, size);
    }
    if (level > 0) {
      const scales = g.init('scales', [4], Float32Array.of(1, 1, 2, 2));
      const r = g.op('Resize', [h, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      h = convP(`up.${up++}.conv`, r);
      size *= 2;
    }
  });
  convP('out_conv', silu(norm('out_norm', h)), 1, 'y');
  g.output('y', [N, c.outChannels, c.imageSize, c.imageSize]);
  return g.model(21);
}
