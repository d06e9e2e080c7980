// One-off run (not a suite): the bundled-size UNet (3.65 M parameters, 32×32) trained for 20 Adam
// steps on the WebGPU backend — on SwiftShader here, so at batch 2 (≈ 35 s a step; batch 16 would
// take ≈ 4 min a step) — recording every loss and the live tensor count before and after;
// writes bench/results/unet-webgpu-train.json. Usage: node --import tsx bench/unet-webgpu-train.ts [batch] [steps]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { UNet } from '../src/models/unet/unet.js';
import { mean, square, sub } from '../src/ops/index.js';
import { Optimizer } from '../src/train/optimizer.js';

const batch = Number(process.argv[2] ?? 2), steps = Number(process.argv[3] ?? 20);
const engine = await createEngine({ backend: 'webgpu' });
const before = engine.memory().tensors;
const unet = new UNet(engine, { baseChannels: 48, groups: 16 }, { seed: 1 });
const n = batch * 3 * 32 * 32;
const rng = new Rng(2);
const clean = rng.uniforms(n, -1, 1), noise = rng.normals(n, 1);
const t = Array.from({ length: batch }, (_, i) => (i * 97) % 1000);
const per = n / batch;
const noisy = clean.map((v, i) => {
  const a = Math.cos(((t[Math.floor(i / per)]! / 1000) * Math.PI) / 2);
  return a * v + Math.sqrt(1 - a * a) * noise[i]!;
});
const x = engine.tensor(noisy, [batch, 3, 32, 32]), eps = engine.tensor(noise, [batch, 3, 32, 32]);
const optimizer = new Optimizer(engine, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
const losses: number[] = [], ms: number[] = [];
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const params = unet.parameters();
  const { value, grads } = engine.valueAndGrads(() => mean(square(sub(unet.forward(x, t), eps))), params.map((p) => p.value));
  losses.push(await value.item());
  value.dispose();
  optimizer.step(params, grads, 1e-3);
  for (const g of grads) g.dispose();
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
