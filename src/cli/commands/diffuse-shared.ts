/** What `inflow diffuse train | sample | eval` share: progress lines, the sampler flags, opening a model file. */
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { InflowError } from '../../engine/errors.js';
import { DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { ModelFileError } from '../../io/safetensors.js';
import { loadDiffusionModel } from '../../models/diffusion/diffusion-file.js';
import type { DiffusionModel } from '../../models/diffusion/diffusion-model.js';
import type { SamplerKind } from '../../models/diffusion/schema.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { UserError } from '../user-error.js';

/** Progress over denoiser steps (or training steps): a bar on a terminal; otherwise a line per tenth, or every `every` steps. */
export class StepBar {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = -1;
  constructor(private readonly label: string, private readonly total: number, private readonly every = Math.max(1, Math.ceil(total / 10)),
    private readonly tty = !!process.stderr.isTTY) {}

  update(done: number, fields: Record<string, string> = {}): void {
    if (this.tty) {
      if (!this.bar) {
        const extra = Object.keys(fields).map((k) => `${k} {${k}}`).join(' | ');
        this.bar = new cliProgress.SingleBar({
          format: `${this.label} |{bar}| {value}/{total}${extra ? ` | ${extra}` : ''} | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        this.bar.start(this.total, 0, fields);
      }
      this.bar.update(done, fields);
      return;
    }
    const line = Math.floor(done / this.every);
    if (line > this.lastLine || done === this.total) {
      this.lastLine = line;
      const extra = Object.entries(fields).map(([k, v]) => `  ${k} ${v}`).join('');
      console.error(`${this.label} ${done}/${this.total}${extra}`);
    }
  }

  end(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

export interface SamplingFlags {
  steps?: number;
  eta?: number;
  guidance?: number;
  method?: SamplerKind;
  seed: number;
}

/** The sampler flags of `sample` and `eval` (defaults: the model file's). */
export const addSamplingOptions = (cmd: Command): Command => cmd
  .option('--steps <n>', "denoiser steps (default: the model file's, e.g. 50); DDIM and DDPM both run on an evenly spaced sub-sequence of the schedule", parsePositiveInt)
  .option('--eta <x>', "DDIM noise scale from 0 (deterministic given the seed's starting noise) to 1 (DDPM's variance); default: the model file's", parseNumber)
  .option('--guidance <w>', "classifier-free guidance scale w ≥ 0: 1 = the conditional model alone, 0 = unconditional, > 1 sharper classes (default: the model file's)", parseNumber)
  .addOption(new Option('--method <name>', "sampler (default: the model file's)").choices(['ddim', 'ddpm']))
  .option('--seed <n>', 'seed (an integer 0…2³²−1) of the starting noise and of the steps\' noise', parseInteger, 0);

export const samplingOptions = (f: SamplingFlags) => ({
  ...(f.steps !== undefined ? { steps: f.steps } : {}), ...(f.eta !== undefined ? { eta: f.eta } : {}),
  ...(f.guidance !== undefined ? { guidance: f.guidance } : {}), ...(f.method ? { method: f.method } : {}),
});

/** A diffusion model file, checked and (a latent model's autoencoder) prepared; any problem with the file is one line. */
export async function openDiffusionModel(path: string, engine: Engine): Promise<DiffusionModel> {
  let model: DiffusionModel;
  try {
    model = loadDiffusionModel(path, { engine });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
  try {
    await model.prepare();
  } catch (e) {
    model.dispose();
    if (e instanceof InflowError) throw new UserError(`${path}: ${e.message}`);
    throw e;
  }
  return model;
}

/** The library's argument checks are the user's to fix: one line (a file's problems already are ModelFileErrors). */
export function asUserError(e: unknown): unknown {
  return e instanceof InflowError && !(e instanceof ModelFileError) ? new UserError(e.message) : e;
}

export function parseLabels(value: string): number[] {
  const labels = value.split(',').map((v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : NaN));
  if (labels.some((y) => !Number.isSafeInteger(y))) throw new InvalidArgumentError(`expected class numbers separated by commas (e.g. 3 or 0,1,2), got '${value}'`);
  return labels;
}

/** Degradation kinds separated by commas, each one the library knows (`train` also refuses repeats; `eval` measures them as listed). */
export function parseDegradationKinds(value: string): DegradationKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds)
    if (!DEGRADATION_KINDS.includes(k as DegradationKind)) throw new InvalidArgumentError(`unknown degradation '${k}'; the kinds are ${DEGRADATION_KINDS.join(', ')}`);
  return kinds as DegradationKind[];
}

export function parseIntList(value: string): number[] {
  const list = value.split(',').map((v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : NaN));
  if (list.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new InvalidArgumentError(`expected positive integers separated by commas (e.g. 1,2,2), got '${value}'`);
  return list;
}
