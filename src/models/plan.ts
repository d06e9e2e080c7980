import { layerConfig as cfg, type LayerConfig } from '../layers/layer.js';
import { fail } from '../engine/errors.js';
import { latentShapes, type LevelConfig, type MultiScaleConfig } from '../layers/multiscale.js';
import type { ModelConfig } from './config.js';

/** `{ classes }` for the coupling networks of a model whose couplings see the label, else nothing. */
const conditionedClasses = (m: ModelConfig): { classes?: number } => (m.classes && m.classCouplings ? { classes: m.classes } : {});

/** The step of each model kind at C channels, as named layer configs (docs/flows.md §16). */
function stepLayers(m: ModelConfig, C: number): Array<{ name: string; layer: LayerConfig }> {
  const k = m.kernelSize;
  const form = m.kind === 'finc' || m.kind === 'inverse' ? 'finc' : 'glow';
  const classes = conditionedClasses(m);
  const coupling: LayerConfig = m.coupling === 'quad'
    ? cfg({ kind: 'quad-coupling', channels: C, width: m.width, ...classes })
    : cfg({ kind: 'affine-coupling', channels: C, width: m.width, form: m.coupling === 'additive' ? 'additive' : form, ...classes });
  const conv1x1 = cfg({ kind: m.conv1x1 === 'lu' ? 'conv1x1-lu' : 'conv1x1', channels: C });
  const actnorm = cfg({ kind: 'actnorm', channels: C });
  switch (m.kind) {
    case 'finc':
      return [{ name: 'finc', layer: cfg({ kind: 'finc-unit', channels: C, kernelSize: k }) }, { name: 'actnorm', layer: actnorm },
        { name: 'conv1x1', layer: conv1x1 }, { name: 'coupling', layer: coupling }];
    case 'inverse': {
      const inv = m.inverseUnit === 'chained'
        ? (['tl', 'tr', 'bl', 'br'] as const).map((c) => ({ name: `invconv_${c}`, layer: cfg({ kind: 'inverse-conv', channels: C, kernelSize: k, groups: 1, corners: [c] }) }))
        : [{ name: 'invconv', layer: cfg({ kind: 'inverse-conv', channels: C, kernelSize: k, groups: C % 4 === 0 ? 4 : 1 }) }];
      return [...inv, { name: 'actnorm', layer: actnorm }, { name: 'conv1x1', layer: conv1x1 }, { name: 'coupling', layer: coupling }];
    }
    case 'cinc':
      return [{ name: 'actnorm', layer: actnorm }, { name: 'cinc', layer: cfg({ kind: 'cinc-conv', channels: C, kernelSize: k }) },
        { name: 'coupling', layer: coupling }];
    case 'emerging':
      return [{ name: 'actnorm', layer: actnorm }, { name: 'conv1x1', layer: conv1x1 },
        { name: 'emerging', layer: cfg({ kind: 'emerging-conv', channels: C, kernelSize: k }) }, { name: 'coupling', layer: coupling }];
    case 'glow':
      return [{ name: 'actnorm', layer: actnorm }, { name: 'conv1x1', layer: conv1x1 }, { name: 'coupling', layer: coupling }];
  }
}

/** The full layer architecture of a model config, without allocating anything. */
export function planModel(m: ModelConfig): MultiScaleConfig {
  let C = m.inputShape[0];
  const levels: LevelConfig[] = [];
  for (let l = 0; l < m.levels; l++) {
    C *= 4;
    const steps = Array.from({ length: m.steps }, () => cfg({ kind: 'sequence', layers: stepLayers(m, C) }));
    const last = l === m.levels - 1;
    const split: LayerConfig | null = last ? null
      : m.split === 'prior' ? cfg({ kind: 'split-prior', channels: C, width: m.width, form: 'finc', ...conditionedClasses(m) }) : cfg({ kind: 'glow-split', channels: C });
    levels.push({ steps, split });
    if (!last) C = Math.floor(C / 2);
  }
  return { kind: 'multiscale', inputShape: [...m.inputShape], levels };
}

type Shapes = Map<string, number[]>;

/** The coupling network's tensors (src/layers/coupling-net.ts), in its state-dict order. */
export function couplingNetShapes(out: Shapes, prefix: string, ci: number, co: number, w: number, classes: number): void {
  out.set(`${prefix}.conv1.weight`, [w, ci, 3, 3]).set(`${prefix}.conv1.bias`, [w]);
  out.set(`${prefix}.conv2.weight`, [w, w, 1, 1]).set(`${prefix}.conv2.bias`, [w]);
  out.set(`${prefix}.out.weight`, [co, w, 3, 3]).set(`${prefix}.out.bias`, [co]).set(`${prefix}.out.logs`, [1, co, 1, 1]);
  if (classes) out.set(`${prefix}.class.weight`, [classes, w]);
}

/** The named parameter shapes one layer config builds (the same names as Module.namedParams). */
export function layerShapes(out: Shapes, prefix: string, layer: LayerConfig): void {
  const c = layer as unknown as { channels: number; kernelSize: number; width: number; groups: number; form?: string; classes?: number };
  const C = c.channels, k = c.kernelSize, half = Math.floor(C / 2);
  switch (layer.kind) {
    case 'sequence':
      for (const { name, layer: l } of (layer as unknown as { layers: Array<{ name: string; layer: LayerConfig }> }).layers) layerShapes(out, `${prefix}.${name}`, l);
      return;
    case 'actnorm': out.set(`${prefix}.bias`, [1, C, 1, 1]).set(`${prefix}.logs`, [1, C, 1, 1]); return;
    case 'conv1x1': out.set(`${prefix}.weight`, [C, C]); return;
    case 'conv1x1-lu': out.set(`${prefix}.lower`, [C, C]).set(`${prefix}.upper`, [C, C]).set(`${prefix}.logs`, [C]); return;
    case 'finc-unit': out.set(`${prefix}.weight`, [C, C / 4, k, k]); return;
    case 'inverse-conv': out.set(`${prefix}.weight`, [C, C / c.groups, k, k]); return;
    case 'cinc-conv': out.set(`${prefix}.weight`, [C, C, k, k]).set(`${prefix}.logdiag`, [C]).set(`${prefix}.bias`, [C]); return;
    case 'emerging-conv': {
      const m = Math.floor(k / 2) + 1;
      for (const pass of ['tl', 'br']) out.set(`${prefix}.${pass}.weight`, [C, C, m, m]).set(`${prefix}.${pass}.logdiag`, [C]).set(`${prefix}.${pass}.bias`, [C]);
      return;
    }
    case 'affine-coupling':
      couplingNetShapes(out, `${prefix}.net`, half, (c.form === 'additive' ? 1 : 2) * (C - half), c.width, c.classes ?? 0);
      return;
    case 'quad-coupling':
      for (const j of [1, 2, 3]) couplingNetShapes(out, `${prefix}.net${j}`, (j * C) / 4, C / 2, c.width, c.classes ?? 0);
      return;
    case 'split-prior': layerShapes(out, `${prefix}.coupling`, { ...layer, kind: 'affine-coupling' } as LayerConfig); return;
    case 'glow-split': {
      const c2 = C - half;
      out.set(`${prefix}.prior.weight`, [2 * c2, half, 3, 3]).set(`${prefix}.prior.bias`, [2 * c2]).set(`${prefix}.prior.logs`, [1, 2 * c2, 1, 1]);
      return;
    }
    default: fail('planParamShapes', `unknown layer kind '${layer.kind}'`);
  }
}

/**
 * Every parameter a FlowModel of this config and architecture holds, by name, with its shape —
 * computed from the configs alone, so a model file's tensors can be checked before anything is
 * built. tests/io/model-schema.test.ts checks it against built models of every kind.
 */
export function planParamShapes(m: ModelConfig, arch: MultiScaleConfig = planModel(m)): Map<string, number[]> {
  const out: Shapes = new Map();
  arch.levels.forEach((level, l) => {
    level.steps.forEach((s, i) => layerShapes(out, `flow.levels.${l}.steps.${i}`, s));
    if (level.split) layerShapes(out, `flow.levels.${l}.split`, level.split);
  });
  if (m.classes) {
    const top = latentShapes(arch).at(-1)!;
    out.set('prior.mean', [m.classes, ...top]).set('prior.logScale', [m.classes, ...top]);
  }
  return out;
}

/**
 * The plan of `m`, keeping what an earlier architecture of the same flow drew at random (an LU
 * 1×1's permutation and signs, a CInC tolerance): each layer takes the earlier layer's fields at
 * the same place and kind, then the plan's own. Used when a trained flow gains class conditioning,
 * which changes the couplings but must not re-draw the layers whose weights are carried over.
 */
export function replanKeeping(m: ModelConfig, earlier: MultiScaleConfig): MultiScaleConfig {
  const keep = (plan: LayerConfig, old: LayerConfig | null | undefined): LayerConfig => {
    if (!old || old.kind !== plan.kind) return plan;
    if (plan.kind === 'sequence') {
      const p = plan as unknown as { layers: Array<{ name: string; layer: LayerConfig }> };
      const o = old as unknown as { layers: Array<{ name: string; layer: LayerConfig }> };
      return cfg({ kind: 'sequence', layers: p.layers.map((l, i) => ({ name: l.name, layer: keep(l.layer, o.layers[i]?.name === l.name ? o.layers[i]!.layer : null) })) });
    }
    return { ...old, ...plan } as LayerConfig;
  };
  const plan = planModel(m);
  return {
    ...plan,
    levels: plan.levels.map((level, l) => ({
      steps: level.steps.map((s, i) => keep(s, earlier.levels[l]?.steps[i])),
      split: level.split ? keep(level.split, earlier.levels[l]?.split) : null,
    })),
  };
}
