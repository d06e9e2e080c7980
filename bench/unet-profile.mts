import { createEngine } from '../src/index.js';
import { UNet } from '../src/models/unet/unet.js';
import { mean, square, sub } from '../src/ops/index.js';
const engine = await createEngine({ backend: 'wasm', threads: Number(process.argv[2] ?? 1) });
const u = new UNet(engine, { baseChannels: 48, groups: 16 });
const N = 16;
const x = engine.tensor(Float32Array.from({ length: N * 3 * 32 * 32 }, () => Math.random() * 2 - 1), [N, 3, 32, 32]);
const target = engine.tensor(Float32Array.from({ length: N * 3 * 32 * 32 }, () => Math.random() * 2 - 1), [N, 3, 32, 32]);
const t = Array.from({ length: N }, (_, i) => i * 50);
const times = new Map<string, [number, number]>();
const run = engine.run.bind(engine);
(engine as any).run = (op: any, call: any) => {
  const name = typeof op === 'string' ? op : op.name;
  const t0 = performance.now();
  const r = run(op, call);
  const e = times.get(name) ?? [0, 0];
  times.set(name, [e[0] + performance.now() - t0, e[1] + 1]);
  return r;
};
for (let s = 0; s < 2; s++) {
  times.clear();
  const t0 = performance.now();
  const params = u.parameters();
  const { value, grads } = engine.valueAndGrads(() => mean(square(sub(u.forward(x, t), target))), params.map((p) => p.value));
  await value.item();
  const total = performance.now() - t0;
  value.dispose(); for (const g of grads) g.dispose();
  console.log(`step ${s}: ${total.toFixed(0)} ms`);
  console.log([...times].sort((a, b) => b[1][0] - a[1][0]).slice(0, 14).map(([k, [ms, n]]) => `${k.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms ${n} calls`).join('\n'));
}
