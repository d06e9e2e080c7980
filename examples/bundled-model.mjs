// The trained MNIST flow that ships with the package (inflow/models/finc-mnist.safetensors):
// exact bits/dim and the flow's own digit guesses on 100 held-out digits, then samples of a chosen
// digit. Runnable with plain node: npm run build && node examples/bundled-model.mjs (or, with
// inflow installed, from any project). About 5 s on 2 CPU cores.
import { fileURLToPath } from 'node:url';
import { batchValues, createEngine, layers, loadModel, mnistSplit } from 'inflow';

const engine = await createEngine();
const file = fileURLToPath(import.meta.resolve('inflow/models/finc-mnist.safetensors'));
const flow = await loadModel(file, { engine });

const { test } = mnistSplit();
const n = 100;
const idx = Array.from({ length: n }, (_, i) => i);
const batch = layers.dequantize(engine.tensor(batchValues(test, idx), [n, 1, 28, 28]), 1);
const classLogProbs = flow.classLogProbs(batch);                    // [n, 10]: log p(x | y) + log p(y), one pass per class
const bpd = await flow.bitsPerDimFromClasses(classLogProbs).data(); // −log₂ p(x) per dimension, p(x) the mixture
const perClass = await classLogProbs.data();
let right = 0;
for (let i = 0; i < n; i++) {
  const row = Array.from(perClass.subarray(i * 10, i * 10 + 10));
  if (row.indexOf(Math.max(...row)) === test.labels[i]) right++;
}
console.log(`${flow.classes}-class flow from ${file} on ${engine.info().backend}`);
console.log(`${n} held-out digits: ${(bpd.reduce((s, v) => s + v, 0) / n).toFixed(4)} bits/dim, the flow names ${right} of them right`);

const threes = await flow.sample(4, { labels: [3], temperature: 0.7, seed: 1 });   // [4, 1, 28, 28] in [0, 256)
const pixels = await threes.data();
console.log(`sampled four 3s: [${threes.shape}], mean pixel ${(pixels.reduce((s, v) => s + v, 0) / pixels.length).toFixed(1)} of 255`);
engine.dispose();
