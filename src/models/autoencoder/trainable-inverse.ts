/**
 * The inverse of a flow that training can differentiate. Every flow layer's decode is made of
 * differentiable ops except the LU 1×1's, which multiplies by W⁻¹ formed on the host
 * (src/layers/conv1x1-lu.ts): its value is exact but carries no gradient to L, U and s. The
 * coupling autoencoder's reconstruction loss runs through the inverse, so here W⁻¹ gets the
 * gradient of the true inverse, d(W⁻¹) = −W⁻¹ dW W⁻¹ (docs/affine-stablesr.md §3).
 */
import { fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { Conv1x1LU } from '../../layers/conv1x1-lu.js';
import type { FlowLayer } from '../../layers/layer.js';
import { FlowSequence } from '../../layers/sequence.js';
import { affine, conv2d, matmul, reshape, sub, transpose } from '../../ops/index.js';

/**
 * W⁻¹ of an LU 1×1 as a [C, C] tensor: the value the layer's decode uses, exactly (the layer's own
 * host inverse, read back by decoding the identity), and the gradient −W⁻¹ (∂W) W⁻¹ through
 * W⁻¹ − W⁻¹ (W − W̄) W⁻¹, where W̄ is W without gradient, so W − W̄ is exactly zero.
 */
export function differentiableInverse(layer: Conv1x1LU): Tensor {
  const engine = layer.engine, C = layer.config.channels;
  const eye = new Float32Array(C * C);
  for (let i = 0; i < C; i++) eye[i * C + i] = 1;
  // decode(I) as C images of C channels at 1×1: image n, channel c holds W⁻¹[c, n], i.e. (W⁻¹)ᵀ.
  const inv = engine.noGrad(() => engine.scope(() => transpose(reshape(layer.decode(engine.tensor(eye, [C, C, 1, 1])), [C, C]))));
  const w = layer.weight();
  const frozen = engine.noGrad(() => affine(w, 1, 0));
  return sub(inv, matmul(inv, matmul(sub(w, frozen), inv)));
}

/**
 * decode of a flow layer (a sequence of them, recursively), with the LU 1×1s' inverses
 * differentiable; the same values as layer.decode(y). Other layers decode as they do.
 */
export function trainableDecode(layer: FlowLayer, y: Tensor): Tensor {
  if (layer instanceof FlowSequence) {
    let x = y;
    for (let i = layer.layers.length - 1; i >= 0; i--) x = trainableDecode(layer.layers[i]!, x);
    return x;
  }
  if (layer instanceof Conv1x1LU) {
    const C = layer.config.channels;
    if (y.rank !== 4 || y.shape[1] !== C) fail('trainableDecode', `the ${C}-channel 1×1 got an input of ${y.shape[1]} channels`);
    return conv2d(y, reshape(differentiableInverse(layer), [C, C, 1, 1]));
  }
  return layer.decode(y);
}
