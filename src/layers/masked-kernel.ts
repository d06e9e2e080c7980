import type { Engine } from '../engine/engine.js';
import { add, mul } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { centreDiagonal, freeMask, randomKernel } from './pcb.js';
import { FlowLayer } from './layer.js';
import type { Param } from './param.js';
import type { Rng } from '../data/rng.js';

/**
 * A layer holding a masked k×k kernel V [C, Cg, k, k] whose effective kernel is built by
 * construction, K_eff = V ⊙ M + E (docs/flows.md §2): the masked centre entries and the unit
 * diagonal are exact under any optimiser or weight decay, and receive zero gradient.
 */
export abstract class MaskedKernelLayer extends FlowLayer {
  readonly weight: Param;
  protected readonly mask: Tensor;
  protected readonly unit: Tensor;
  /**
   * Schedule of this layer's solves: 'wavefront' (default, parallel over anti-diagonals) or the
   * sequential 'raster' baseline of CInC / Emerging, for benchmarks. Same result either way.
   */
  algorithm: 'wavefront' | 'raster' = 'wavefront';

  constructor(engine: Engine, C: number, Cg: number, k: number, rng: Rng, scale: number) {
    super(engine);
    this.weight = this.param('weight', randomKernel(engine, rng, C, Cg, k, scale));
    this.mask = freeMask(engine, C, Cg, k).keep();
    this.unit = centreDiagonal(engine, C, Cg, k).keep();
  }

  /** V ⊙ M + E, in TL orientation. */
  kernel(): Tensor { return add(mul(this.weight.value, this.mask), this.unit); }

  override dispose(): void {
    super.dispose();
    this.mask.dispose();
    this.unit.dispose();
  }
}
