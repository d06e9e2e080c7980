import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistSplit } from '../../src/data/mnist.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadClassifier } from '../../src/io/classifier-file.js';
import { loadModel } from '../../src/io/model-file.js';
import { classifierAccuracy } from '../../src/train/classifier-training.js';

// The committed models judged without a human eye: the classifier (trained by inflow on the same
// 9 000 digits) must be accurate on the held-out 1 000, and must recognise most flow samples.
const flowFile = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));
const classifierFile = fileURLToPath(new URL('../../models/mnist-classifier.safetensors', import.meta.url));

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm' }); });
afterAll(() => engine.dispose());

describe('bundled models', () => {
  it('the classifier reaches ≥ 97 % on the held-out digits', async () => {
    const { model } = loadClassifier(classifierFile, engine);
    const accuracy = await classifierAccuracy(model, mnistSplit().test);
    console.log(`classifier held-out accuracy ${(accuracy * 100).toFixed(2)}%`);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    model.dispose();
  });

  // The target is ≥ 80 % confident samples; the bundled 0.29 M-parameter model, trained for
  // about two hours on 9 000 digits, reaches 42 % (README, "The bundled models"). Sampling is seeded and
  // bit-identical across thread counts on wasm, so this floor catches any regression of the model,
  // the sampler or the classifier without pretending the target is met.
  it('flow samples at temperature 0.7 are recognised as digits (measured 42/100 with p ≥ 0.9; floor 37)', async () => {
    const flow = await loadModel(flowFile, { engine });
    const { model: classifier } = loadClassifier(classifierFile, engine);
    const x = await flow.sample(100, { temperature: 0.7, seed: 2024 });
    const probs = await classifier.predict(x);
    const confident = probs.filter((p) => Math.max(...p) >= 0.9).length;
    const digits = new Set(probs.map((p) => p.indexOf(Math.max(...p))));
    console.log(`${confident}/100 samples classified with p ≥ 0.9; ${digits.size} distinct digits`);
    expect(confident).toBeGreaterThanOrEqual(37);
    // Samples that are all one digit would pass the confidence bar while failing as a generative model.
    expect(digits.size).toBeGreaterThanOrEqual(6);
    for (const t of [x]) t.dispose();
    flow.dispose();
    classifier.dispose();
  });
});
