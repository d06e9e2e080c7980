// One-off check (not a suite): the bundled-size UNet (3.65 M parameters, 32×32) runs forward and
// backward on the WebGPU backend and agrees with wasm; writes bench/results/unet-webgpu.json.
// Usage: node --import tsx bench/unet-webgpu-check.ts [batch]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/index.js';
import { Rng } from '../src/data/rng.js';
import { UNet } from '../src/models/unet/unet.js';
import { CONFIG, epsLoss } from './unet-data.js';

const batch = Number(process.argv[2] ?? 2);
const results: Record<string, { loss: number; gradNorm: number; ms: number }> = {};
for (const backend of ['wasm', 'webgpu'] as const) {
  const engine = await createEngine({ backend, threads: 2 });
  const unet = new UNet(engine, CONFIG, { seed: 1 });
  // The output convolution starts at zero, which would stop every gradient above it.
  unet.outConv.weight.value = engine.tensor(new Rng(4).uniforms(unet.outConv.weight.size, -0.05, 0.05), unet.outConv.weight.shape);
  const n = batch * 3 * 32 * 32;
  const x = engine.tensor(new Rng(2).uniforms(n, -1, 1), [batch, 3, 32, 32]);
  const eps = engine.tensor(new Rng(3).normals(n, 1), [batch, 3, 32, 32]);
  const t0 = performance.now();
  const params = unet.parameters();
  const { value, grads } = engine.valueAndGrads(() => epsLoss(unet, x, [10, 900].slice(0, batch), eps), params.map((p) => p.value));
  const loss = await value.item();
  let sq = 0;
  for (const g of grads) for (const v of await g.data()) sq += v * v;
  const ms = performance.now() - t0;
  results[backend] = { loss, gradNorm: Math.sqrt(sq), ms: Math.round(ms) };
  console.log(backend, unet.paramCount(), JSON.stringify(results[backend]));
  engine.dispose();
}
const adapter = await createEngine({ backend: 'webgpu' }).then((e) => { const d = e.info().details.adapter; e.dispose(); return d; });
const out = { date: new Date().toISOString(), loadAvg: os.loadavg(), batch, adapter, results,
  lossRelDiff: Math.abs(results.wasm!.loss - results.webgpu!.loss) / Math.abs(results.wasm!.loss),
  gradNormRelDiff: Math.abs(results.wasm!.gradNorm - results.webgpu!.gradNorm) / results.wasm!.gradNorm };
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'results', 'unet-webgpu.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out));
process.exit(0);
