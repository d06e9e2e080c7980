import * as z from 'zod/mini';
import { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { fail, InflowError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { relu, selu } from '../ops/index.js';
import { check, int, missingOr, oneOf, strict, type Checked } from '../models/schema.js';

/**
 * Per-pixel autoencoders of the geological-mapping pipeline (docs/geomap.md §7): a stack of dense
 * layers from a pixel's band vector down to a small code and a mirrored stack back. The canonical
 * AE has no activations at all (so it spans the same subspace PCA does, only found by gradient
 * descent); the stacked AE (SAE) puts a ReLU after the first layer and SELU around the code.
 */

export type PixelActivation = 'linear' | 'relu' | 'selu';
export type PixelAutoencoderVariant = 'ae' | 'sae';

export interface PixelLayer {
  /** Output width of the dense layer. */
  width: number;
  activation: PixelActivation;
}

export interface PixelAutoencoderConfig {
  kind: 'pixel-autoencoder';
  /** Which preset rule built it (informational: the layers below are what counts). */
  variant: PixelAutoencoderVariant;
  /** Input bands (the last decoder layer's width). */
  bands: number;
  /** Encoder layers; the last one's width is the code size. */
  encoder: PixelLayer[];
  /** Decoder layers; the last one's width is `bands`. */
  decoder: PixelLayer[];
}

export const PIXEL_AE_LIMITS = { bands: 256, width: 1024, layers: 32 } as const;
const L = PIXEL_AE_LIMITS;

const layerSchema = strict({ width: int(1, L.width), activation: oneOf(['linear', 'relu', 'selu']) }, 'a { width, activation } layer');
const layers = z.array(layerSchema, { error: missingOr(`must be a list of 1 to ${L.layers} layers`) })
  .check(z.minLength(1, { error: 'must list at least one layer' }), z.maxLength(L.layers, { error: `must list at most ${L.layers} layers` }));

export const pixelAutoencoderConfigSchema = strict({
  kind: z.literal('pixel-autoencoder', { error: missingOr("must be 'pixel-autoencoder'") }),
  variant: oneOf(['ae', 'sae']),
  bands: int(2, L.bands),
  encoder: layers,
  decoder: layers,
}).check(z.superRefine((c, ctx) => {
  const out = c.decoder.at(-1)!.width;
  if (out !== c.bands) ctx.addIssue({ code: 'custom', path: ['decoder'], message: `must end with ${c.bands} outputs (the bands), not ${out}` });
}));

export function checkPixelAutoencoderConfig(value: unknown, root = 'config'): Checked<PixelAutoencoderConfig> {
  return check(pixelAutoencoderConfigSchema, value, root) as Checked<PixelAutoencoderConfig>;
}

/** Widths falling from just below `from` to `to`: by one per layer, or in at most `most` even steps when the gap is larger. */
function fall(from: number, to: number, most = 8): number[] {
  const gap = from - to, steps = Math.min(gap, most);
  return Array.from({ length: steps }, (_, i) => Math.round(from - (gap * (i + 1)) / steps));
}

/**
 * The paper's layer plan for `bands` inputs and a code of `codeDim` (docs/geomap.md §7):
 * - ae: three dense layers of width `bands`, then widths falling by one to the code; no
 *   activations. Sentinel-2: 10-10-10-10-9-8-7-6-5, decoder 6-7-8-9-10-10-10-10.
 * - sae: widths falling by one from bands − 1 to the code, then one more code-wide layer; ReLU on
 *   the first layer, SELU on the code layer. Sentinel-2: 10→9 (ReLU)→8→7→6→5→5 (SELU), decoder
 *   5 (SELU)→6→7→8→9→10 (ReLU); ASTER: 9→8→7→6→5→5 and its mirror.
 * The decoder mirrors the encoder: the same widths in reverse, ending at the bands, and layer j
 * of the decoder takes the activation of encoder layer (last − j). A gap over 8 between the bands
 * and the code (hyperspectral input) is crossed in 8 even steps. `output` replaces the activation
 * of the decoder's last layer (the SAE's ReLU cannot reproduce negative standardised values).
 */
export function pixelAutoencoderPreset(variant: PixelAutoencoderVariant, bands: number, codeDim = 5, opts: { output?: PixelActivation } = {}): PixelAutoencoderConfig {
  if (variant !== 'ae' && variant !== 'sae') throw new InflowError(`pixel autoencoder: variant must be 'ae' or 'sae', got ${String(variant)}`);
  if (!Number.isInteger(bands) || bands < 2 || bands > L.bands) throw new InflowError(`pixel autoencoder: bands must be an integer from 2 to ${L.bands}, got ${String(bands)}`);
  if (!Number.isInteger(codeDim) || codeDim < 1 || codeDim >= bands)
    throw new InflowError(`pixel autoencoder: code size must be an integer from 1 to ${bands - 1} (fewer than the ${bands} bands), got ${String(codeDim)}`);
  const widths = variant === 'ae' ? [bands, bands, bands, ...fall(bands, codeDim)] : [...fall(bands, codeDim), codeDim];
  const encoder: PixelLayer[] = widths.map((width) => ({ width, activation: 'linear' }));
  if (variant === 'sae') { encoder[0]!.activation = 'relu'; encoder.at(-1)!.activation = 'selu'; }
  const k = encoder.length;
  const decoder: PixelLayer[] = encoder.map((_, j) => ({ width: j === k - 1 ? bands : encoder[k - 2 - j]!.width, activation: encoder[k - 1 - j]!.activation }));
  if (opts.output !== undefined) {
    if (!['linear', 'relu', 'selu'].includes(opts.output)) throw new InflowError(`pixel autoencoder: output activation must be 'linear', 'relu' or 'selu', got ${String(opts.output)}`);
    decoder.at(-1)!.activation = opts.output;
  }
  return { kind: 'pixel-autoencoder', variant, bands, encoder, decoder };
}

/** Keras's default initialisation, which the paper's models used: Glorot-uniform kernels U(±√(6/(in+out))), zero biases. */
function glorot(inF: number, outF: number, rng: Rng) {
  const a = Math.sqrt(6 / (inF + outF));
  return { weightInit: () => rng.uniforms(inF * outF, -a, a), biasInit: 'zeros' as const, rng };
}

const activate = (x: Tensor, a: PixelActivation): Tensor => (a === 'relu' ? relu(x) : a === 'selu' ? selu(x) : x);

/** One stack of dense layers, children named "0", "1", … (state dict `encoder.0.weight`, …). */
class DenseStack extends Module {
  private readonly layers: Linear[] = [];
  constructor(engine: Engine, inF: number, private readonly plan: readonly PixelLayer[], rng: Rng) {
    super(engine);
    let w = inF;
    plan.forEach((l, i) => {
      this.layers.push(this.child(String(i), new Linear(engine, w, l.width, glorot(w, l.width, rng))));
      w = l.width;
    });
  }
  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((layer, i) => { h = activate(layer.forward(h), this.plan[i]!.activation); });
    return h;
  }
}

/** The autoencoder: encode [N, bands] → [N, code], decode back; forward is the reconstruction. */
export class PixelAutoencoder extends Module {
  readonly config: PixelAutoencoderConfig;
  readonly encoder: DenseStack;
  readonly decoder: DenseStack;

  constructor(engine: Engine, config: PixelAutoencoderConfig, opts: { seed?: number } = {}) {
    super(engine);
    const checked = checkPixelAutoencoderConfig(config);
    if (!checked.ok) fail('PixelAutoencoder', checked.problem);
    this.config = checked.value;
    const rng = new Rng(opts.seed ?? 0);
    this.encoder = this.child('encoder', new DenseStack(engine, this.config.bands, this.config.encoder, rng));
    this.decoder = this.child('decoder', new DenseStack(engine, this.codeDim, this.config.decoder, rng));
  }

  get bands(): number { return this.config.bands; }
  get codeDim(): number { return this.config.encoder.at(-1)!.width; }

  encode(x: Tensor): Tensor { return this.encoder.forward(x); }
  decode(z: Tensor): Tensor { return this.decoder.forward(z); }
  forward(x: Tensor): Tensor { return this.decode(this.encode(x)); }
}

/** Every parameter's name and shape, from the config alone (what a model file must carry exactly). */
export function pixelAutoencoderParamShapes(c: PixelAutoencoderConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const stack = (name: string, inF: number, plan: readonly PixelLayer[]) => {
    let w = inF;
    plan.forEach((l, i) => { out.set(`${name}.${i}.weight`, [w, l.width]).set(`${name}.${i}.bias`, [l.width]); w = l.width; });
  };
  stack('encoder', c.bands, c.encoder);
  stack('decoder', c.encoder.at(-1)!.width, c.decoder);
  return out;
}

/**
 * Codes of n pixel rows (row-major n × bands) in chunks, so the engine never holds more than
 * chunk × (widest layer) floats whatever n is; the host keeps the n × code result.
 */
export async function encodePixels(model: PixelAutoencoder, x: Float32Array, n: number, opts: { chunk?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<Float32Array> {
  const d = model.bands, c = model.codeDim, engine = model.engine;
  if (x.length !== n * d) fail('encodePixels', `data holds ${x.length} values, not n × bands = ${n} × ${d}`);
  const chunk = opts.chunk ?? 65536;
  if (!Number.isInteger(chunk) || chunk < 1) fail('encodePixels', `chunk must be a positive integer, got ${String(chunk)}`);
  const out = new Float32Array(n * c);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const m = Math.min(chunk, n - r0);
      const code = engine.noGrad(() => engine.scope(() => model.encode(engine.tensor(x.subarray(r0 * d, (r0 + m) * d), [m, d]))));
      out.set(await code.data(), r0 * c);
      code.dispose();
      opts.onProgress?.(r0 + m, n);
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}
