// `gan` suite: one discriminator and one generator training step of the conditional GAN
// (src/models/gan, the steps of src/train/tasks/conditional-gan.ts) at the 32×32 preset on inflow
// wasm 1 / all threads, against the same networks written in tfjs (bench/peers/tfjs-gan.ts) on the
// same weights, data and power-iteration vectors, side by side in one process (docs/gan.md §10).
import { Rng } from '../src/data/rng.js';
import type { Engine, Tensor } from '../src/index.js';
import { ganPreset, headOutputs, type GanConfig } from '../src/models/gan/config.js';
import { ConditionalGan } from '../src/models/gan/conditional-gan.js';
import { hingeDiscriminatorLoss, hingeGeneratorLoss, multiHingeDiscriminatorLoss, multiHingeGeneratorLoss } from '../src/models/gan/losses.js';
import { add, mul } from '../src/ops/index.js';
import { Adam, type Optimizer } from '../src/train/optimizer.js';
import { sig } from './lib/compare.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { sideBySide, type TimingPlan } from './lib/timing.js';
import { ganFlops, ganTable, type GanRow } from './gan-tables.js';
import { tfjsAndInflowContenders } from './ops.js';
import type { HostWeights } from './peers/tfjs-flow.js';
import { TfjsGanDiscriminator, TfjsGanGenerator, tfjsDiscriminatorStep, tfjsGeneratorStep, type TfjsGanBatch } from './peers/tfjs-gan.js';
import { nchwToNhwc, tf } from './tfjs.js';

const CLASSES = 4;
/** BigGAN's learning rate for both networks, the task's default Crammer–Singer weight. */
const LR = 2e-4, MULTI_HINGE_WEIGHT = 0.05;
const SIZES = { full: { ch: 32, batch: 32 }, quick: { ch: 8, batch: 4 } } as const;
const PLANS: Record<'full' | 'quick', TimingPlan> = {
  /** A tfjs step takes tens of seconds at the full size: the cold step, then three timed ones (a median of three, since the machine is shared). */
  full: { warmup: 0, reps: 3, minReps: 3, budgetMs: 0 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};

interface Batch { real: Float32Array; realY: number[]; z: Float32Array; y: number[] }

/** Seeded reals in [−1, 1), every class present; fakes' z ~ N(0, I) and classes cycling differently from the reals'. */
function batchOf(c: GanConfig, n: number): Batch {
  const rng = new Rng(7);
  return {
    real: rng.uniforms(n * c.imageChannels * c.resolution * c.resolution, -1, 1), realY: Array.from({ length: n }, (_, i) => i % c.classes),
    z: rng.normals(n * c.zDim, 1), y: Array.from({ length: n }, (_, i) => (3 * i + 1) % c.classes),
  };
}

/**
 * The GAN's state on the host. The conditional BatchNorms' W_γ, W_β start at zero (the plain
 * normalisation); they get small noise here so the agreement check compares the class path too.
 */
async function weightsOf(engine: Engine, config: GanConfig): Promise<{ state: HostWeights; gParams: number; dParams: number }> {
  const gan = new ConditionalGan(engine, config, 0);
  const rng = new Rng(3), params = new Set(gan.namedParams().keys());
  const state: HostWeights = new Map();
  for (const [name, s] of await gan.stateDict()) {
    let data = Float32Array.from(s.data);
    if (params.has(name) && data.every((v) => v === 0)) data = Float32Array.from(rng.uniforms(data.length, -0.05, 0.05));
    state.set(name, { data, shape: [...s.shape] });
  }
  const out = { state, gParams: gan.generator.paramCount(), dParams: gan.discriminator.paramCount() };
  gan.dispose();
  return out;
}

const under = (w: HostWeights, prefix: string): HostWeights =>
  new Map([...w].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));

/** inflow's two updates as ConditionalGanTask makes them (its ctx.update: valueAndGrads, the loss read back, Adam). */
function inflowSteps(engine: Engine, config: GanConfig, state: HostWeights, b: Batch) {
  const gan = new ConditionalGan(engine, config, 0);
  gan.loadStateDict(state);
  const { generator: G, discriminator: D } = gan;
  const n = b.realY.length;
  const real = engine.tensor(b.real, [n, config.imageChannels, config.resolution, config.resolution]).keep();
  const z = engine.tensor(b.z, [n, config.zDim]).keep();
  const adam = () => new Adam(engine, { beta1: 0, beta2: 0.999 });
  const dOpt = adam(), gOpt = adam();
  const update = async (opt: Optimizer, params: ReturnType<typeof D.parameters>, loss: () => Tensor): Promise<number> => {
    const { value, grads } = engine.valueAndGrads(loss, params.map((p) => p.value));
    const v = await value.item();
    value.dispose();
    opt.step(params, grads, LR);
    for (const g of grads) g.dispose();
    return v;
  };
  return {
    discriminator: () => update(dOpt, D.parameters(), () => {
      const fake = engine.noGrad(() => G.forward(z, b.y));
      const onReal = D.forward(real, b.realY), onFake = D.forward(fake, b.y);
      return add(hingeDiscriminatorLoss(onReal.score, onFake.score), mul(multiHingeDiscriminatorLoss(onReal.logits, b.realY, onFake.logits), MULTI_HINGE_WEIGHT));
    }),
    generator: () => update(gOpt, G.parameters(), () => {
      const out = D.forward(G.forward(z, b.y), b.y);
      return add(hingeGeneratorLoss(out.score), mul(multiHingeGeneratorLoss(out.logits, b.y), MULTI_HINGE_WEIGHT));
    }),
    dispose: () => { dOpt.dispose(); gOpt.dispose(); gan.dispose(); real.dispose(); z.dispose(); },
  };
}

function tfjsSteps(config: GanConfig, state: HostWeights, b: Batch) {
  const G = new TfjsGanGenerator(config, under(state, 'generator.')), D = new TfjsGanDiscriminator(config, under(state, 'discriminator.'));
  const n = b.realY.length, R = config.resolution, M = headOutputs(config);
  const hot = (ys: number[], k: number) => tf.cast(tf.oneHot(tf.tensor1d(ys, 'int32'), k), 'float32') as tf.Tensor2D;
  const t: TfjsGanBatch = tf.tidy(() => ({
    real: tf.tensor4d(nchwToNhwc(b.real, [n, config.imageChannels, R, R]), [n, R, R, config.imageChannels]),
    z: tf.tensor2d(b.z, [n, config.zDim]), realHead: hot(b.realY, M), fakeCond: hot(b.y, config.classes), fakeHead: hot(b.y, M),
    fakeClass: hot(b.y.map(() => M - 1), M),
  }));
  const dOpt = tf.train.adam(LR, 0, 0.999, 1e-8), gOpt = tf.train.adam(LR, 0, 0.999, 1e-8);
  return {
    discriminator: async () => tfjsDiscriminatorStep(G, D, dOpt, t, MULTI_HINGE_WEIGHT),
    generator: async () => tfjsGeneratorStep(G, D, gOpt, t, MULTI_HINGE_WEIGHT),
    dispose: () => { dOpt.dispose(); gOpt.dispose(); G.dispose(); D.dispose(); tf.dispose(Object.values(t)); },
  };
}

export const ganBench: Suite = {
  name: 'gan',
  about: 'conditional GAN (32×32 preset, ch 32, batch 32): one discriminator and one generator training step on inflow wasm 1 / all threads vs the same G and D in tfjs-wasm (10–15 min on 2 busy cores; --quick: ch 8, batch 4, ≈ 10 s)',
  async run(ctx: SuiteContext) {
    const size = ctx.quick ? SIZES.quick : SIZES.full, plan = ctx.quick ? PLANS.quick : PLANS.full;
    const config = ganPreset(32, { classes: CLASSES, ch: size.ch });
    const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
    if (!tfjsFacts.multithread) notes.push('tfjs-wasm: its threaded build needs browser workers, so in Node it runs on one thread; there is no all-threads tfjs row');
    if (ctx.quick) notes.push(`quick: ch ${size.ch}, batch ${size.batch}, one timed step per contender after the cold one`);
    const { state, gParams, dParams } = await weightsOf(contenders.find((c) => c.engine)!.engine!, config);
    const b = batchOf(config, size.batch);
    const steps = contenders.map((c) => (c.engine ? inflowSteps(c.engine, config, state, b) : tfjsSteps(config, state, b)));
    const flops = ganFlops(config, size.batch);
    const rows: GanRow[] = [];
    // Discriminator steps first, then generator steps, every contender the same number of each, so
    // all start the generator rows from the same (float-rounding apart) discriminator.
    for (const step of ['discriminator', 'generator'] as const) {
      process.stderr.write(`gan: ${step} step, batch ${size.batch}, ch ${size.ch}\n`);
      const losses = contenders.map((): number[] => []);
      const calls = steps.map((s, i) => async () => losses[i]!.push(await s[step]()));
      const { timings } = await sideBySide(calls, plan);
      const ref = losses[contenders.findIndex((c) => c.id === 'wasm1')]![0]!;
      rows.push({
        step, batch: size.batch, flops: flops[step],
        contenders: contenders.map((c, i) => ({ id: c.id, label: c.label, threads: c.threads, timing: timings[i]!, losses: losses[i]!.map((l) => sig(l, 6)),
          firstLossDiff: c.id === 'wasm1' ? null : sig(Math.abs(losses[i]![0]! - ref) / Math.abs(ref)) })),
      });
      ctx.peak.sample(1);
    }
    for (const s of steps) s.dispose();
    for (const c of contenders) c.engine?.dispose();

    const ratios = ganRatios(rows);
    return {
      tables: [ganTable(rows, config, ctx.peak.gflopsPerCore, ratios), ...(notes.length ? [{ title: 'gan notes', header: ['note'], rows: notes.map((n) => [n]) }] : [])],
      data: {
        config, classes: CLASSES, lr: LR, multiHingeWeight: MULTI_HINGE_WEIGHT, params: { generator: gParams, discriminator: dParams },
        forwardFlopsPerImage: { generator: flops.generatorForward / size.batch, discriminator: flops.discriminatorForward / size.batch },
        peers: { tfjs: tfjsFacts }, rows, ratios, notes,
      },
    };
  },
};

/** Ratios > 1: inflow faster. */
function ganRatios(rows: GanRow[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of rows) {
    const ms = (id: string) => r.contenders.find((c) => c.id === id)?.timing.medianMs ?? null;
    const q = (a: string, b: string) => { const x = ms(a), y = ms(b); return x && y ? sig(y / x, 3) : null; };
    out[`${r.step}_wasm1_over_tfjs`] = q('wasm1', 'tfjs');
    out[`${r.step}_wasmN_over_tfjs`] = q('wasmN', 'tfjs');
    out[`${r.step}_wasmN_over_wasm1`] = q('wasmN', 'wasm1');
  }
  return out;
}
