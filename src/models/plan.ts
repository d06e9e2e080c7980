import { layerConfig as cfg, type LayerConfig } from '../layers/layer.js';
import type { LevelConfig, MultiScaleConfig } from '../layers/multiscale.js';
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
