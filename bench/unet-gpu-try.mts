import { createEngine } from '../src/index.js';
import { UNet } from '../src/models/unet/unet.js';
import { mean, square, sub } from '../src/ops/index.js';
const engine = await createEngine({ backend: 'webgpu' });
const cfg = JSON.parse(process.argv[2]!);
const N = Number(process.argv[3] ?? 2);
const u = new UNet(engine, cfg);
const S = u.config.imageSize, C = u.config.inChannels;
console.log('params', u.paramCount());
const x = engine.tensor(Float32Array.from({ length: N * C * S * S }, () => Math.random()), [N, C, S, S]);
for (let s = 0; s < 3; s++) {
  const t0 = performance.now();
  const params = u.parameters();
  const { value, grads } = engine.valueAndGrads(() => mean(square(sub(u.forward(x, [1, 500].slice(0, N)), x))), params.map((p) => p.value));
  await value.item();
  value.dispose(); for (const g of grads) g.dispose();
  console.log(`step ${s}: ${(performance.now() - t0).toFixed(0)} ms`);
}
process.exit(0);
