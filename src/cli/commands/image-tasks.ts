import type { Command } from 'commander';
import { inpaintCommand } from './inpaint.js';
import { restoreCommand } from './restore.js';
import { upscaleCommand } from './upscale.js';

/** `inflow upscale | restore | inpaint`: the image tasks of the diffusion models, one image file each (docs/pipelines.md). */
export const imageTaskCommands = (): Command[] => [upscaleCommand(), restoreCommand(), inpaintCommand()];
