// Rewrites the sampler defaults saved in a diffusion model file, weights untouched:
//   node --import tsx scripts/set-sampler-defaults.ts <in.safetensors> <out.safetensors> [method=ddpm] [steps=N] [guidance=G] [eta=E]
// The task runs of docs/diffusion.md saved DDIM before the image tasks' default became DDPM; their
// bundled copies were re-saved with this (the file is re-checked on the way in and on the way out).
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../src/io/atomic-write.js';
import { checkDiffusionBytes, diffusionBytes, resolveDiffusionConfig } from '../src/models/diffusion/diffusion-model.js';

const [input, output, ...pairs] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node --import tsx scripts/set-sampler-defaults.ts <in.safetensors> <out.safetensors> [method=ddpm|ddim] [steps=N] [guidance=G] [eta=E]');
  process.exit(2);
}
const { config, tensors } = checkDiffusionBytes(readFileSync(input), input);
const sampler: Record<string, unknown> = { ...config.sampler };
for (const pair of pairs) {
  const [key, value] = pair.split('=');
  if (!key || value === undefined || !['method', 'steps', 'guidance', 'eta'].includes(key)) {
    console.error(`set-sampler-defaults: '${pair}' is not method=…, steps=…, guidance=… or eta=…`);
    process.exit(2);
  }
  sampler[key] = key === 'method' ? value : Number(value);
}
let next;
try {
  next = resolveDiffusionConfig({ ...config, sampler });
} catch (e) {
  console.error(`set-sampler-defaults: ${(e as Error).message}`);
  process.exit(2);
}
const bytes = diffusionBytes(next, tensors);
checkDiffusionBytes(bytes, output);
writeFileAtomic(output, bytes);
console.log(`${output}: sampler ${JSON.stringify(config.sampler)} → ${JSON.stringify(next.sampler)}`);
