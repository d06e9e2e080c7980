// The README's "The library in Node", runnable with plain node:
//   npm run build && node examples/library-node.mjs     (in this repository)
//   node library-node.mjs                               (in a project that installed inflow)
// An untrained mnist-small flow on 32 held-out MNIST digits: a few seconds on 2 CPU cores.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchValues, createEngine, layers, loadModel, mnistSplit, models, saveModel } from 'inflow';

const engine = await createEngine();                       // 'auto': webgpu → wasm → reference
console.log(`backend: ${engine.info().backend} (${engine.info().why})`);

// A batch: 32 of the 1 000 held-out digits of the `mnist` package (0…255), plus U[0, 1) noise,
// because a flow models dequantised pixels in [0, 256).
const { test } = mnistSplit();
const idx = Array.from({ length: 32 }, (_, i) => i);
const batch = layers.dequantize(engine.tensor(batchValues(test, idx), [32, 1, 28, 28]), 1);
const labels = idx.map((i) => test.labels[i]);

const flow = models.fincFlow('mnist-small', { engine, seed: 0 });   // or cincFlow, inverseFlow, glow
flow.initialize(batch);                                     // data-dependent ActNorm init
const bpd = flow.bitsPerDim(batch);                         // per image, every log-det included
const x = await flow.sample(16, { temperature: 0.7, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'inflow-example-'));
const file = join(dir, 'mine.safetensors');
await saveModel(flow, file);                                // safetensors + JSON config
const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;
console.log(`untrained flow: ${mean(await bpd.data()).toFixed(3)} bits/dim on the batch; sampled [${x.shape}]`);

// class-conditional: { classes: 10 } (and classCouplings: true) in the config
const digits = models.fincFlow({ ...models.presets['mnist-small'], classes: 10 }, { engine });
digits.initialize(batch);
const sevens = await digits.sample(8, { labels: [7] });     // 8 sevens; without labels, any digit
const bpdGiven = digits.bitsPerDim(batch, labels);          // −log p(x | y); without labels, −log p(x)
const perClass = digits.classLogProbs(batch);               // [N, 10]: argmax is the flow's guess
console.log(`class-conditional: sampled [${sevens.shape}], ${mean(await bpdGiven.data()).toFixed(3)} bits/dim given the labels, class log-probs [${perClass.shape}]`);

const again = await loadModel(file, { engine });
const same = mean(await again.bitsPerDim(batch).data());
console.log(`reloaded from ${file}: ${same.toFixed(3)} bits/dim (the same model)`);

rmSync(dir, { recursive: true, force: true });
engine.dispose();
