// The diffusion suite's tables (bench/diffusion.ts measures; this formats and derives).
import type { Table } from './lib/report.js';
import { sig } from './lib/compare.js';
import type { Timed } from './diffusion-pipelines.js';
import type { StepContender } from './diffusion-step.js';

export interface StepRow {
  model: string; params: number; config: string;
  /** Guidance runs the UNet on 2 × batch images per step. */
  guided: boolean; batch: number; images: number; flops: number;
  /** The file's sampler steps: what one sample costs in steps. */
  steps: number; method: string;
  contenders: StepContender[];
}

export interface SamplerFacts { model: string; batch: number; steps: number; guidance: number; method: string }

const delta = (d: number | null) => (d === null ? null : d.toExponential(1));
const reps = (t: Timed | StepContender) => String(t.timing.samplesMs.length);
/** Images made per second when every step takes `ms` for `batch` images. */
const perSecond = (batch: number, steps: number, ms: number) => sig((batch * 1000) / (steps * ms), 3);

/** Ratios of one step row (> 1: inflow faster). */
export function stepRatios(r: StepRow): Record<string, number | null> {
  const ms = (id: string) => r.contenders.find((c) => c.id === id)?.timing.medianMs ?? null;
  const ratio = (a: string, b: string) => { const x = ms(a), y = ms(b); return x && y ? sig(y / x, 3) : null; };
  return { wasm1_over_tfjs: ratio('wasm1', 'tfjs'), wasmN_over_tfjs: ratio('wasmN', 'tfjs'), wasm1_over_ort1: ratio('wasm1', 'ort1'),
    wasmN_over_ortN: ratio('wasmN', 'ortN'), wasmN_over_wasm1: ratio('wasmN', 'wasm1') };
}

export function stepTable(rows: StepRow[], peak: number): Table {
  return {
    title: `denoiser step of the bundled UNets (their own weights): one UNet forward as the sampler runs it, warm median ms; UNet images/s; GF/s (% of ${peak} GFLOP/s per core × threads); ÷ tfjs = tfjs ms / this ms; Δ = agreement with inflow wasm 1 thread; samples/s derived = batch / (steps × step time)`,
    header: ['model', 'batch → UNet images', 'contender', 'cold ms', 'warm ms', 'UNet images/s', 'GF/s', '%pk', '÷ tfjs', 'Δ', 'samples/s (derived)', 'reps'],
    rows: rows.flatMap((r) => {
      const tf = r.contenders.find((c) => c.id === 'tfjs');
      return r.contenders.map((c) => {
        const gf = r.flops / c.timing.medianMs / 1e6;
        return [`${r.model} (${(r.params / 1e6).toFixed(2)} M)`, `${r.batch} → ${r.images}`, c.label, c.timing.coldMs, c.timing.medianMs,
          sig((r.images * 1000) / c.timing.medianMs, 4), sig(gf, 3), c.threads ? sig((100 * gf) / (peak * c.threads), 3) : null,
          tf ? sig(tf.timing.medianMs / c.timing.medianMs, 3) : null, delta(c.relDiff), perSecond(r.batch, r.steps, c.timing.medianMs), reps(c)];
      });
    }),
    notes: [
      ...[...new Map(rows.map((r) => [r.model, `${r.model}: ${r.config}; ${(r.flops / r.images / 1e9).toFixed(3)} GFLOP per UNet image (conv, linear, attention); sampler ${r.method} ${r.steps} steps${r.guided ? ', guidance 2: each step runs the UNet on the batch twice over (labelled and null-labelled), 2 × batch images' : ''}`])).values()],
      'the peers get the same weights by name: the class label as a Gather (onnxruntime, int64 input) / tf.gather (tfjs) from the class embedding, added to the time embedding, and the image condition concatenated to x_t, as src/models/unet/unet.ts does; the sinusoidal timestep embedding is computed on the host as inflow computes it',
      '%pk is against the wasm f32x4 peak: onnxruntime is native code (AVX2/AVX-512 FMA) and can pass 100 %',
      'Δ: max |Δ| / max |y| of the step\'s output against inflow wasm 1 thread on the same input (webgpu: on its own smaller batch)',
      ...rows.filter((r) => r.contenders.length > 1).map((r) => `ratios ${r.model} (> 1: inflow faster): ${Object.entries(stepRatios(r)).map(([k, v]) => `${k} ${v ?? '–'}`).join(', ')}`),
    ],
  };
}

/** samples/s of the generator derived from each contender's step (batch / (steps × step time)). */
export function derivedSamples(rows: StepRow[], s: SamplerFacts): Array<{ id: string; label: string; batch: number; samplesPerSecond: number }> {
  return rows.filter((r) => r.model === s.model).flatMap((r) => r.contenders.map((c) =>
    ({ id: c.id, label: c.label, batch: r.batch, samplesPerSecond: perSecond(r.batch, s.steps, c.timing.medianMs) })));
}

export function sampleTable(measured: Timed[], rows: StepRow[], s: SamplerFacts): Table {
  const derived = derivedSamples(rows, s);
  const byId = new Map(derived.map((d) => [d.id, d]));
  return {
    title: `samples/s of ${s.model}: ${s.method.toUpperCase()} ${s.steps} steps, guidance ${s.guidance} — measured = DiffusionModel.sample(${s.batch}) end to end (x_T, every step, pixels out); derived = batch / (${s.steps} × step time) from the step table`,
    header: ['contender', 'how', 'batch', 'warm s per batch', 'samples/s', 'derived samples/s', 'measured ÷ derived', 'Δ', 'reps'],
    rows: [
      ...measured.map((m) => {
        const d = byId.get(m.id);
        const sps = sig((s.batch * 1000) / m.timing.medianMs, 3);
        return [m.label, 'measured', s.batch, sig(m.timing.medianMs / 1000, 3), sps, d?.samplesPerSecond ?? null, d ? sig(sps / d.samplesPerSecond, 3) : null, delta(m.relDiff), reps(m)];
      }),
      ...derived.filter((d) => !measured.some((m) => m.id === d.id)).map((d) => [d.label, 'derived', d.batch, null, d.samplesPerSecond, d.samplesPerSecond, null, null, '–']),
    ],
    notes: ['measured ÷ derived < 1: the sampler\'s own work (host float64 update, uploads, read-backs) on top of the UNet steps', 'Δ: the samples (pixels) against inflow wasm 1 thread, same seed'],
  };
}

export interface AutoencoderFacts { name: string; file: string; kind: string; params: number; latentShape: number[] }
export type AutoencoderRow = Timed & { name: string; op: string; batch: number };

export function aeTable(rows: AutoencoderRow[], facts: AutoencoderFacts[]): Table {
  const [coupling, vae] = facts as [AutoencoderFacts, AutoencoderFacts];
  const keys = [...new Map(rows.map((r) => [`${r.op}/${r.id}`, r])).values()];
  return {
    title: `autoencoders of the latent ×4 SR files: warm median ms per batch of held-out 28×28 digits → ${coupling.latentShape.join('×')} latents and back; VAE ÷ coupling = conv VAE ms / coupling ms`,
    header: ['op', 'batch', 'contender', `${coupling.name} ms`, `${vae.name} ms`, 'VAE ÷ coupling', 'coupling ms/image', 'VAE ms/image', 'coupling Δ', 'VAE Δ', 'reps'],
    rows: keys.map((k) => {
      const c = rows.find((r) => r.op === k.op && r.id === k.id && r.name === coupling.name)!;
      const v = rows.find((r) => r.op === k.op && r.id === k.id && r.name === vae.name)!;
      return [k.op, k.batch, k.label, c.timing.medianMs, v.timing.medianMs, sig(v.timing.medianMs / c.timing.medianMs, 3),
        sig(c.timing.medianMs / k.batch, 3), sig(v.timing.medianMs / k.batch, 3), delta(c.relDiff), delta(v.relDiff), `${reps(c)}/${reps(v)}`];
    }),
    notes: [
      ...facts.map((f) => `${f.name}: ${f.kind}, ${f.params.toLocaleString('en')} parameters (from ${f.file}.safetensors)`),
      'encode: the image → the latent mean; decode: the wasm-1-thread latents of the same digits → images; Δ against wasm 1 thread (webgpu on its own batch)',
    ],
  };
}

export interface SrFacts { name: string; latent: boolean; unetParams: number; aeParams: number; method: string; steps: number }
export type SrRow = Timed & { name: string };

export function srTable(rows: SrRow[], facts: SrFacts[], images: number): Table {
  return {
    title: `×4 super-resolution of ${images} held-out MNIST digits (7×7 box-averaged → 28×28) with upscale(): seconds per image (batch of ${images}, warm)`,
    header: ['model', 'parameters', 'sampler', 'contender', 'cold s/image', 's/image', 'images/s', 'Δ', 'reps'],
    rows: rows.map((r) => {
      const f = facts.find((x) => x.name === r.name)!;
      const per = r.timing.medianMs / 1000 / images;
      return [r.name, f.aeParams ? `${(f.unetParams / 1e3).toFixed(0)} k UNet + ${(f.aeParams / 1e3).toFixed(0)} k AE` : `${(f.unetParams / 1e3).toFixed(0)} k UNet`,
        `${f.method} ${f.steps}`, r.label, sig(r.timing.coldMs / 1000 / images, 3), sig(per, 3), sig(1 / per, 3), delta(r.relDiff), reps(r)];
    }),
    notes: [
      'the whole pipeline: the condition (bicubic 7 → 28 for the pixel model; the 7×7 image itself for the latent ones), every denoiser step, the decoder of a latent model, pixels out; seed 0',
      'Δ: the upscaled pixels against wasm 1 thread (same seed)',
    ],
  };
}
