// `diffusion` suite: the bundled diffusion models (models/*.safetensors) as a user runs them.
// 1. one denoiser step of each UNet on inflow wasm 1 / all threads and webgpu, vs the same UNet
//    (the file's weights) in tfjs-wasm and onnxruntime-node 1 / all threads;
// 2. samples/s of diffusion-mnist (DDIM 50, guidance 2): measured on inflow, derived from the step
//    for the peers;
// 3. encode / decode of Affine-StableSR's coupling autoencoder vs the conv VAE;
// 4. ×4 super-resolution time per image of the three SR files (`upscale`, DDPM 50).
import { fileURLToPath } from 'node:url';
import type { Engine } from '../src/index.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import type { DiffusionModel } from '../src/models/diffusion/diffusion-model.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import type { TimingPlan } from './lib/timing.js';
import { heldOutDigits, timeAutoencoders, timeSampling, timeUpscale, type Slot } from './diffusion-pipelines.js';
import { cpuStep, gpuStep, stepInput } from './diffusion-step.js';
import { aeTable, derivedSamples, sampleTable, srTable, stepTable, type AutoencoderRow, type StepRow } from './diffusion-tables.js';
import { tfjsAndInflowContenders } from './ops.js';
import { loadOrt } from './perf/conv-stack.js';
import { cfgName, unetForwardFlops, webgpuEngine } from './unet.js';

const file = (name: string) => fileURLToPath(new URL(`../models/${name}.safetensors`, import.meta.url));

const GENERATOR = 'diffusion-mnist';
/** The three ×4 SR files; the two latent ones share the UNet architecture and differ in the autoencoder. */
const SR = ['sr-mnist', 'latent-sr-vae-mnist', 'affine-stablesr-mnist'] as const;
const AUTOENCODERS = [{ name: 'coupling (Affine-StableSR)', file: 'affine-stablesr-mnist' }, { name: 'conv VAE', file: 'latent-sr-vae-mnist' }] as const;

/**
 * Batches. The generator's step runs its UNet on 2 × stepBatch images (guidance 2: conditional and
 * unconditional passes in one batch). webgpu here is SwiftShader (≈ 0.2 GFLOP/s): one guided
 * image (0.76 GFLOP) per step; quick mode times only the 7×7 latent UNet and the autoencoders there.
 */
const SIZES = {
  full: { stepBatch: 8, srStepBatch: 16, gpuStepBatch: 1, sampleBatch: 8, sampleSteps: undefined, aeBatch: 16, gpuAeBatch: 4, srImages: 16, srSteps: undefined },
  quick: { stepBatch: 1, srStepBatch: 2, gpuStepBatch: 1, sampleBatch: 1, sampleSteps: 2, aeBatch: 2, gpuAeBatch: 1, srImages: 1, srSteps: 2 },
} as const;

const PLANS: Record<'step' | 'gpu' | 'long' | 'ae' | 'quick', TimingPlan> = {
  step: { warmup: 1, reps: 7, minReps: 3, budgetMs: 12000 },
  gpu: { warmup: 0, reps: 2, minReps: 1, budgetMs: 15000 },
  /** Whole samplings and upscales (seconds each): the cold call, then one timed. */
  long: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
  ae: { warmup: 1, reps: 7, minReps: 3, budgetMs: 6000 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};
/** Above this estimated time a webgpu sampling is derived from its step instead of run. */
const GPU_SAMPLE_LIMIT_S = 60;

export const diffusionBench: Suite = {
  name: 'diffusion',
  about: 'bundled diffusion models: UNet step and samples/s on inflow wasm 1 / all threads and webgpu vs the same UNet in onnxruntime-node and tfjs-wasm; coupling autoencoder vs conv VAE encode/decode; ×4 SR time per image (about 10 min; --quick < 1 min)',
  async run(ctx: SuiteContext) {
    const q = ctx.quick, size = q ? SIZES.quick : SIZES.full;
    const { ort, why: ortMissing, version: ortVersion } = await loadOrt();
    const { contenders, notes, tfjsFacts } = await tfjsAndInflowContenders(ctx);
    const cpu: Slot[] = contenders.filter((c): c is typeof c & { engine: Engine } => !!c.engine)
      .map((c) => ({ id: c.id, label: c.label, threads: c.threads, engine: c.engine }));
    const tfjsLabel = contenders.find((c) => c.id === 'tfjs')!.label;
    if (!ort) notes.push(`onnxruntime-node did not load: ${ortMissing}`);
    const gpuOr = await webgpuEngine();
    const gpu: Slot | null = 'why' in gpuOr ? null : { id: 'webgpu', label: gpuOr.label, threads: 0, engine: gpuOr.engine };
    if ('why' in gpuOr) notes.push(gpuOr.why);
    const loaded = new Map<string, DiffusionModel>();
    const load = (slot: Slot, name: string): DiffusionModel => {
      const key = `${slot.id}/${name}`;
      let m = loaded.get(key);
      if (!m) loaded.set(key, (m = loadDiffusionModel(file(name), { engine: slot.engine })));
      return m;
    };
    const wasm1 = cpu[0]!;
    if (q) notes.push(`quick: tiny batches and ${SIZES.quick.sampleSteps} sampler steps instead of the files' 50 (samples/s and s/image are not comparable to a full run); webgpu times only the 7×7 latent UNet and the autoencoders`);

    // ---- 1. denoiser step
    const steps: StepRow[] = [];
    const stepModels = [
      { name: GENERATOR, guided: true, batch: size.stepBatch, gpu: !q },
      { name: 'sr-mnist', guided: false, batch: size.srStepBatch, gpu: !q },
      { name: 'affine-stablesr-mnist', guided: false, batch: size.srStepBatch, gpu: true },
    ];
    for (const s of stepModels) {
      const m = load(wasm1, s.name), u = m.unet.config;
      const input = stepInput(m, s.batch, s.guided);
      process.stderr.write(`diffusion: ${s.name} step, UNet on ${input.images} images\n`);
      const row: StepRow = {
        model: s.name, params: m.unet.paramCount(), config: cfgName(u, m.unet.paramCount()), guided: s.guided, batch: s.batch, images: input.images,
        flops: unetForwardFlops(u) * input.images, steps: m.config.sampler.steps, method: m.config.sampler.method,
        contenders: await cpuStep(m, cpu.map((c) => ({ ...c, unet: load(c, s.name).unet })), input,
          { tfjsLabel, ort, ortVersion, threadsAll: ctx.threadsAll }, q ? PLANS.quick : PLANS.step),
      };
      steps.push(row);
      if (gpu && s.gpu) {
        const gi = stepInput(m, size.gpuStepBatch, s.guided);
        process.stderr.write(`diffusion: ${s.name} step on webgpu, UNet on ${gi.images} images\n`);
        const c = await gpuStep(load(gpu, s.name).unet, m.unet, gi, gpu.label, q ? PLANS.quick : PLANS.gpu);
        steps.push({ ...row, batch: size.gpuStepBatch, images: gi.images, flops: unetForwardFlops(u) * gi.images, contenders: [c] });
      }
      ctx.peak.sample(1);
    }

    // ---- 2. samples/s of the generator: DDIM 50, guidance 2 (the file's defaults)
    const gen = load(wasm1, GENERATOR);
    const sampleSteps = size.sampleSteps ?? gen.config.sampler.steps;
    process.stderr.write(`diffusion: ${GENERATOR} sampling, ${size.sampleBatch} images, ${sampleSteps} steps\n`);
    const sampled = await timeSampling(cpu.map((slot) => ({ slot, model: load(slot, GENERATOR) })), size.sampleBatch, sampleSteps, q ? PLANS.quick : PLANS.long);
    const gpuStepRow = steps.find((r) => r.model === GENERATOR && r.contenders[0]!.id === 'webgpu');
    if (gpu && gpuStepRow) {
      const estimate = (sampleSteps * gpuStepRow.contenders[0]!.timing.medianMs) / 1000;
      if (estimate <= GPU_SAMPLE_LIMIT_S) sampled.push(...await timeSampling([{ slot: gpu, model: load(gpu, GENERATOR) }], gpuStepRow.batch, sampleSteps, PLANS.quick));
      else notes.push(`webgpu samples/s is derived from its step: a ${gpuStepRow.batch}-image sampling of ${sampleSteps} steps would take ≈ ${estimate.toFixed(0)} s (> ${GPU_SAMPLE_LIMIT_S} s)`);
    }
    ctx.peak.sample(1);

    // ---- 3. autoencoders: encode / decode of held-out digits
    const aeRuns = (slots: Slot[]) => slots.flatMap((slot) => AUTOENCODERS.map((a) => ({ name: a.name, slot, ae: load(slot, a.file).autoencoder! })));
    process.stderr.write(`diffusion: autoencoders, batch ${size.aeBatch}\n`);
    const ae = await timeAutoencoders(aeRuns(cpu), heldOutDigits(size.aeBatch), q ? PLANS.quick : PLANS.ae);
    const aeRows: AutoencoderRow[] = [...ae.encode.map((r) => ({ op: 'encode', batch: size.aeBatch, ...r })), ...ae.decode.map((r) => ({ op: 'decode', batch: size.aeBatch, ...r }))];
    if (gpu) {
      process.stderr.write(`diffusion: autoencoders on webgpu, batch ${size.gpuAeBatch}\n`);
      // wasm 1 thread again at the webgpu batch: the reference of webgpu's Δ.
      const g = await timeAutoencoders(aeRuns([wasm1, gpu]), heldOutDigits(size.gpuAeBatch), q ? PLANS.quick : PLANS.gpu);
      for (const [op, rows] of [['encode', g.encode], ['decode', g.decode]] as const)
        aeRows.push(...rows.filter((r) => r.id === 'webgpu').map((r) => ({ op, batch: size.gpuAeBatch, ...r })));
    }
    ctx.peak.sample(1);

    // ---- 4. ×4 SR time per image
    process.stderr.write(`diffusion: ×4 super-resolution of ${size.srImages} held-out digits\n`);
    const sr = await timeUpscale(cpu.flatMap((slot) => SR.map((name) => ({ name, slot, model: load(slot, name) }))),
      heldOutDigits(size.srImages), size.srSteps, q ? PLANS.quick : PLANS.long);
    ctx.peak.sample(1);

    const aeFacts = AUTOENCODERS.map((a) => {
      const m = load(wasm1, a.file);
      return { name: a.name, file: a.file, kind: m.autoencoder!.config.kind, params: m.autoencoder!.paramCount(), latentShape: m.autoencoder!.latentShape };
    });
    const srFacts = SR.map((name) => {
      const m = load(wasm1, name);
      return { name, latent: !!m.autoencoder, unetParams: m.unet.paramCount(), aeParams: m.autoencoder?.paramCount() ?? 0,
        method: m.config.sampler.method, steps: size.srSteps ?? m.config.sampler.steps };
    });
    const sampler = { model: GENERATOR, batch: size.sampleBatch, steps: sampleSteps, guidance: gen.config.sampler.guidance, method: gen.config.sampler.method };
    for (const m of loaded.values()) m.dispose();
    for (const c of cpu) c.engine.dispose();
    gpu?.engine.dispose();

    const peak = ctx.peak.gflopsPerCore;
    return {
      tables: [
        stepTable(steps, peak),
        sampleTable(sampled, steps, sampler),
        aeTable(aeRows, aeFacts),
        srTable(sr, srFacts, size.srImages),
        ...(notes.length ? [{ title: 'diffusion notes', header: ['note'], rows: notes.map((n) => [n]) }] : []),
      ],
      data: {
        sizes: size, peers: { tfjs: tfjsFacts, onnxruntime: ort ? { version: ortVersion } : { missing: ortMissing } },
        step: steps, sampling: { ...sampler, contenders: sampled, derived: derivedSamples(steps, sampler) },
        autoencoders: { models: aeFacts, rows: aeRows }, superResolution: { images: size.srImages, models: srFacts, rows: sr }, notes,
      },
    };
  },
};
