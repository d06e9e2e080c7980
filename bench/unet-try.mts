import { createEngine } from '../src/index.js';
import { UNet } from '../src/models/unet/unet.js';
import { mean, square, sub } from '../src/ops/index.js';
const engine = await createEngine({ backend: (process.argv[2] as 'wasm') ?? 'wasm', threads: 2, allowSoftwareGPU: true });
for (const cfg of [{}, { baseChannels: 64, channelMults: [1, 2, 2], heads: 4 }, { baseChannels: 48, channelMults: [1,2,2], groups: 16 }, {baseChannels: 64, channelMults: [1,2,2,2]}]) {
  const u = new UNet(engine, cfg);
  console.log(JSON.stringify(cfg), u.paramCount());
  u.dispose();
}
const u = new UNet(engine, { imageSize: 32 });
const N = 16;
const x = engine.tensor(Float32Array.from({ length: N * 3 * 32 * 32 }, () => Math.random() * 2 - 1), [N, 3, 32, 32]);
const target = engine.tensor(Float32Array.from({ length: N * 3 * 32 * 32 }, () => Math.random() * 2 - 1), [N, 3, 32, 32]);
const t = Array.from({ length: N }, (_, i) => i * 50);
for (let s = 0; s < 2; s++) {
  const t0 = performance.now();
  const params = u.parameters();
  const { value, grads } = engine.valueAndGrads(() => mean(square(sub(u.forward(x, t), target))), params.map((p) => p.value));
  console.log('loss', await value.item(), 'ms', (performance.now() - t0).toFixed(0), 'tensors', engine.memory().tensors);
  value.dispose(); for (const g of grads) g.dispose();
}
