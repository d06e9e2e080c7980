import { createEngine, models } from '../src/index.js';
import { mnistSplit } from '../src/data/mnist.js';
import { train, type StepMetrics } from '../src/train/trainer.js';
import { sig } from './lib/compare.js';
import type { Suite } from './lib/suite.js';
import { median, round3 } from './lib/timing.js';

/** The bundled model's architecture (README, "The bundled models"): labelled digits, so each step sees the labels. */
const CONFIG = { inputShape: [1, 28, 28] as [number, number, number], levels: 2, steps: 8, width: 96, classes: 10, classCouplings: true };
const BATCH = 64;
/** Early steps run wasm on fresh buffers and V8 on cold code: kept apart from the timed ones. */
const WARMUP = { full: 2, quick: 1 };
const TIMED = { full: 6, quick: 1 };
/**
 * 1 thread, all threads, 1 thread, all threads: the cores are shared with other work, and blocks that
 * alternate let a slow spell hit both thread counts instead of one.
 */
const BLOCKS = { full: 2, quick: 1 };

interface Run {
  id: string; label: string; threads: number; warmupSteps: number; timedSteps: number;
  firstStepSeconds: number[]; warmupSeconds: number[][]; stepSeconds: number[];
  imagesPerSecond: number; medianStepImagesPerSecond: number; finalLoss: number;
}

export const trainBench: Suite = {
  name: 'train',
  about: 'training images/s of the bundled FInC preset (L2 K8 width 96, 10-class prior and label-aware couplings, batch 64, MNIST) on wasm, 1 and all threads',
  async run(ctx) {
    const { train: trainSet } = mnistSplit();
    const warm = ctx.quick ? WARMUP.quick : WARMUP.full, timed = ctx.quick ? TIMED.quick : TIMED.full;
    const blocks = ctx.quick ? BLOCKS.quick : BLOCKS.full;
    const threadsList = ctx.threadsAll > 1 ? [1, ctx.threadsAll] : [1];
    const engines = await Promise.all(threadsList.map((threads) => createEngine({ backend: 'wasm', threads })));
    const runs: Run[] = engines.map((engine, i) => {
      const got = Number(engine.info().details.threads ?? 1);
      return { id: i ? 'wasmN' : 'wasm1', label: `wasm, ${got} thread${got > 1 ? 's' : ''}`, threads: got, warmupSteps: warm, timedSteps: 0,
        firstStepSeconds: [], warmupSeconds: [], stepSeconds: [], imagesPerSecond: 0, medianStepImagesPerSecond: 0, finalLoss: NaN };
    });
    let params = 0;
    for (let block = 0; block < blocks; block++) {
      for (const [i, engine] of engines.entries()) {
        const run = runs[i]!;
        process.stderr.write(`train: block ${block + 1}/${blocks}, ${run.label}, ${warm} + ${timed} steps\n`);
        const model = models.fincFlow(CONFIG, { engine, seed: 0 });
        params = model.paramCount();
        const steps: StepMetrics[] = [];
        // A skipped (non-finite) step costs the same forward and backward pass: it is timed too.
        await train(model, trainSet, null, { batch: BATCH, maxSteps: warm + timed, seed: 0 }, { onStep: (m) => steps.push(m), onBadStep: (m) => steps.push(m) });
        const seconds = steps.map((m) => round3(1 / m.stepsPerSecond));
        run.firstStepSeconds.push(seconds[0]!);
        run.warmupSeconds.push(seconds.slice(0, warm));
        run.stepSeconds.push(...seconds.slice(warm));
        run.finalLoss = sig(steps[steps.length - 1]!.loss, 4);
        model.dispose();
        ctx.peak.sample(1);
      }
    }
    for (const e of engines) e.dispose();
    for (const r of runs) {
      r.timedSteps = r.stepSeconds.length;
      r.imagesPerSecond = sig((BATCH * r.timedSteps) / r.stepSeconds.reduce((a, b) => a + b, 0), 4);
      r.medianStepImagesPerSecond = sig(BATCH / median(r.stepSeconds), 4);
    }
    const one = runs[0]!, all = runs[1];
    const ratio = all ? sig(all.imagesPerSecond / one.imagesPerSecond, 3) : null;
    return {
      tables: [{
        title: `training throughput: FInC L${CONFIG.levels} K${CONFIG.steps} width ${CONFIG.width}, ${CONFIG.classes}-class prior and label-aware couplings, 1×28×28 MNIST, batch ${BATCH}, Adam (forward + backward + update)`,
        header: ['backend', 'threads', 'first step s', 'median step s', 'images/s', 'median-step img/s', '÷ 1 thread'],
        rows: runs.map((r) => [r.label, r.threads, r.firstStepSeconds[0]!, sig(median(r.stepSeconds), 3), r.imagesPerSecond, r.medianStepImagesPerSecond,
          r === one ? 1 : ratio]),
        notes: [
          `${params} parameters; ${blocks} alternating block(s) per thread count, each a fresh model: ${warm} warm-up steps (the first one cold), then ${timed} timed; images/s = ${BATCH} × timed steps ÷ their total seconds`,
          'ActNorm data-dependent init on the first batch runs before step 1 and is not timed',
        ],
      }],
      data: {
        model: { kind: 'finc', ...CONFIG, params }, batch: BATCH, dataset: 'mnistSplit().train',
        scaledDown: `${blocks} × (${warm} warm-up + ${timed} timed) steps per thread count (a full epoch is ${Math.floor(trainSet.count / BATCH)} steps)`, blocks,
        runs, allOverOneThread: ratio,
      },
    };
  },
};
