/**
 * What a model config costs before anything is built: its parameter count and an upper estimate of
 * the memory one image's forward (bitsPerDim) or decode (sample) pass keeps alive. Model files,
 * `models.*(cfg)` and batch sizes are checked against the engine's memory budget with these
 * numbers, so a config that asks for gigabytes fails with one line instead of exhausting the machine.
 */
import type { Engine } from '../engine/engine.js';
import { checkBudget } from '../engine/budget.js';
import type { LayerConfig } from '../layers/layer.js';
import { latentShapes, type MultiScaleConfig } from '../layers/multiscale.js';
import { layerParamCount } from '../layers/registry.js';
import type { SequenceConfig } from '../layers/sequence.js';
import type { ModelConfig } from './config.js';
import { planModel } from './plan.js';

export interface ModelCost {
  /** Trainable parameters (float32 each), the same count as `model.paramCount()`. */
  params: number;
  /** Upper estimate of the bytes one image's forward or decode pass holds at its peak. */
  activationBytesPerImage: number;
}

/** Parameters of an architecture plus the class prior: counted from the configs, nothing allocated. */
export function architectureParams(model: ModelConfig, arch: MultiScaleConfig): number {
  let flow = 0;
  for (const l of arch.levels) {
    for (const st of l.steps) flow += layerParamCount(st);
    if (l.split) flow += layerParamCount(l.split);
  }
  const [C, H, W] = latentShapes(arch).at(-1)!;
  return flow + (model.classes ? 2 * model.classes * C * H * W : 0);
}

/** Coupling networks a layer runs (each conv3×3 → ReLU → conv1×1 → ReLU → conv3×3 at `width` channels). */
function couplingNets(layer: LayerConfig): number {
  switch (layer.kind) {
    case 'affine-coupling': case 'split-prior': return 1;
    case 'quad-coupling': return 3;
    case 'sequence': return (layer as unknown as SequenceConfig).layers.reduce((s, l) => s + couplingNets(l.layer), 0);
    default: return 0;
  }
}

/** Invertible layers in a step (a sequence counts its members). */
const layerCount = (layer: LayerConfig): number =>
  layer.kind === 'sequence' ? (layer as unknown as SequenceConfig).layers.reduce((s, l) => s + layerCount(l.layer), 0) : 1;

/**
 * Bytes one image's pass through `arch` holds at its peak. Layers free their temporaries when they
 * return and keep their output and log-det, so the live set is what every layer kept (≤ 3 maps of
 * C×H×W each, measured ~1.5–3 on the wasm backend) plus the largest transient: one layer's
 * coupling networks, ≤ 6 maps of width×H×W per network (measured ~4). Preprocessing keeps ≤ 8 maps
 * of the input. A model whose couplings see the label scores p(x) with one pass per class, so the
 * kept part counts `passes` times. tests/io/model-schema.test.ts checks the estimate against measured bytes.
 */
export function activationBytes(arch: MultiScaleConfig, passes = 1): number {
  let [C, H, W] = arch.inputShape;
  let kept = 8 * C * H * W;
  let transient = 0;
  for (const level of arch.levels) {
    C *= 4; H /= 2; W /= 2;
    kept += C * H * W;
    for (const step of level.steps) {
      kept += 3 * layerCount(step) * C * H * W;
      transient = Math.max(transient, 6 * couplingNets(step) * widthOf(step) * H * W);
    }
    if (level.split) {
      kept += 4 * C * H * W;
      transient = Math.max(transient, 6 * couplingNets(level.split) * widthOf(level.split) * H * W);
      C = Math.floor(C / 2);
    }
  }
  return 4 * (passes * (kept + 4 * C * H * W) + transient);
}

/** The widest coupling network of a layer (0 without one). */
function widthOf(layer: LayerConfig): number {
  if (layer.kind === 'sequence') return Math.max(0, ...(layer as unknown as SequenceConfig).layers.map((l) => widthOf(l.layer)));
  return (layer as unknown as { width?: number }).width ?? 0;
}

/** Parameter count and per-image activation bytes of a (validated) model config; nothing is allocated. */
export function modelCost(config: ModelConfig, arch: MultiScaleConfig = planModel(config)): ModelCost {
  const passes = config.classes && config.classCouplings ? config.classes : 1;
  return { params: architectureParams(config, arch), activationBytesPerImage: activationBytes(arch, passes) };
}

/** Bytes a model's weights take on the engine (float32). */
export const weightBytes = (cost: ModelCost): number => cost.params * 4;

/** The most images per call that fit the budget next to the weights (0 when not even one does). */
export function maxBatch(cost: ModelCost, budget: number): number {
  return Math.max(0, Math.floor((budget - weightBytes(cost)) / cost.activationBytesPerImage));
}

/**
 * Fails (InflowError `op: …`) unless the weights plus `n` images' activations fit `engine.memoryBudget`;
 * the message names the batch size and the largest one that fits.
 */
export function checkBatchBudget(op: string, engine: Engine, config: ModelConfig, n: number, cost: ModelCost = modelCost(config)): void {
  const budget = engine.memoryBudget;
  const bytes = weightBytes(cost) + n * cost.activationBytesPerImage;
  if (bytes <= budget) return;
  const fits = maxBatch(cost, budget);
  const hint = fits >= 1 ? `use a batch of at most ${fits}` : 'not even one image fits next to the weights';
  checkBudget(op, `a batch of ${n} images of ${config.inputShape.join('×')} with ${cost.params.toLocaleString('en')} parameters (${hint})`,
    bytes, budget);
}

/**
 * Fails unless the weights plus one image's activations fit `engine.memoryBudget` — the least a
 * model must fit to be of any use; building or loading a larger one would only exhaust the machine.
 */
export function checkModelBudget(op: string, engine: Engine, config: ModelConfig, cost: ModelCost = modelCost(config)): void {
  checkBudget(op, `a ${config.kind} model of ${cost.params.toLocaleString('en')} parameters with one ${config.inputShape.join('×')} image's activations`,
    weightBytes(cost) + cost.activationBytesPerImage, engine.memoryBudget);
}
