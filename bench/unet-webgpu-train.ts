// One-off run (not a suite): the bundled-size UNet (3.65 M parameters, 32×32) trained for 20 Adam
// steps on the WebGPU backend — on SwiftShader here, so at batch 2 (≈ 35 s a step; batch 16 would
// take ≈ 4 min a step) — recording every loss and the live tensor count before and after;
// writes bench/results/unet-webgpu-train.json. Usage: node --import tsx bench/unet-webgpu-train.ts [batch] [steps]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { UNet } from '../src/models/unet/unet.js';
import { Optimizer } from '../src/train/optimizer.js';
import { CONFIG, inflowTrainStep, unetData } from './unet-data.js';

const batch = Number(process.argv[2] ?? 2), steps = Number(process.argv[3] ?? 20);
const engine = await createEngine({ backend: 'webgpu' });
const before = engine.memory().tensors;
const unet = new UNet(engine, CONFIG, { seed: 1 });
const d = unetData(unet.config, batch);
const x = engine.tensor(d.x, d.shape), eps = engine.tensor(d.eps, d.shape);
const optimizer = new Optimizer(engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
const losses: number[] = [], ms: number[] = [];
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  losses.push(await inflowTrainStep(unet, optimizer, x, d.t, eps));
  ms.push(Math.round(performance.now() - t0));
  console.log(`step ${s + 1}: loss ${losses.at(-1)!.toFixed(4)} (${ms.at(-1)} ms)`);
}
optimizer.dispose();
const params = unet.paramCount();
unet.dispose();
x.dispose();
eps.dispose();
const out = {
  date: new Date().toISOString(), loadAvg: os.loadavg(), adapter: engine.info().details.adapter, params, batch, steps, losses, ms,
  leakedTensors: engine.memory().tensors - before,
};
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'results', 'unet-webgpu-train.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify({ params, first: losses[0], last: losses.at(-1), leakedTensors: out.leakedTensors }));
engine.dispose();
process.exit(0);
