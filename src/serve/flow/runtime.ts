/**
 * The worker side of flow models: runs batches of sample, score, encode and decode requests on the
 * worker's engine. Requests were checked on the main thread (src/serve/flow/routes.ts); the library
 * checks them again here.
 *
 * Batching keeps every request's result identical to running it alone: score, encode and decode
 * concatenate the requests' images along N (every layer treats images independently, so image i's
 * numbers do not depend on its neighbours — tests/serve/batching.test.ts compares bit for bit);
 * sample draws each request's latents with that request's own seed, temperature and labels
 * (FlowModel.drawLatents, exactly the draw FlowModel.sample makes), concatenates them and decodes
 * once, so a batched sample equals FlowModel.sample(n, { seed, temperature, labels }) of that request.
 */
import type { Engine } from '../../engine/engine.js';
import { InflowError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { loadModel } from '../../io/model-file.js';
import type { FlowModel } from '../../models/flow-model.js';
import { CORRUPT } from '../../models/guards.js';
import { affine, concat, relu, sum } from '../../ops/index.js';
import type { LoadedModel, ModelRuntime, RunFailure } from '../registry.js';
import { WIRE_SHIFT, type LatentsPayload, type LatentsResult, type PixelsPayload, type PixelsResult, type SamplePayload, type ScoreResult } from './meta.js';

type Batch = { results: unknown[]; transfer: ArrayBuffer[] };

const failure = (status: number, error: string): RunFailure => ({ failed: true, status, error });

/** A library refusal is the request's fault (400) unless it blames the weights; anything else is the server's (500). */
function failureOf(e: unknown): RunFailure {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof InflowError) return failure(msg.includes(CORRUPT) ? 500 : 400, msg);
  return failure(500, `internal error: ${msg.split('\n')[0]}`);
}

class LoadedFlow implements LoadedModel {
  private readonly engine: Engine;
  private readonly D: number;

  constructor(private readonly model: FlowModel) {
    this.engine = model.engine;
    this.D = model.dims;
  }

  async warmUp(): Promise<void> {
    const m = this.model;
    const labels = m.classCouplings ? { labels: [0] } : {};
    const s = await this.run('sample', [{ n: 1, temperature: 0.7, seed: 0, ...labels } satisfies SamplePayload]);
    const wire = (s.results[0] as PixelsResult).pixels;
    const pixels = Float32Array.from(wire, (v) => v + WIRE_SHIFT);
    const steps: Batch[] = [s];
    steps.push(await this.run('score', [{ n: 1, pixels } satisfies PixelsPayload]));
    const enc = await this.run('encode', [{ n: 1, pixels, ...labels } satisfies PixelsPayload]);
    steps.push(enc);
    const latents = (enc.results[0] as LatentsResult).latents;
    steps.push(await this.run('decode', [{ n: 1, latents, ...labels } satisfies LatentsPayload]));
    const failed = steps.map((b) => b.results[0] as RunFailure).find((r) => r && r.failed);
    if (failed) throw new InflowError(`warm-up failed: ${failed.error}`);
  }

  async run(endpoint: string, payloads: readonly unknown[]): Promise<Batch> {
    const fn = this.endpoints[endpoint];
    if (!fn) return { results: payloads.map(() => failure(404, `flow models have no endpoint '${endpoint}'`)), transfer: [] };
    try {
      return await fn(payloads);
    } catch (e) {
      if (payloads.length === 1) return { results: [failureOf(e)], transfer: [] };
    }
    // The batch failed as a whole, which checked requests should never make it do: run each
    // request alone so that one request's problem is its own, and the others still get results.
    const out: Batch = { results: [], transfer: [] };
    for (const p of payloads) {
      try {
        const r = await fn([p]);
        out.results.push(r.results[0]);
        out.transfer.push(...r.transfer);
      } catch (e) {
        out.results.push(failureOf(e));
      }
    }
    return out;
  }

  private readonly endpoints: Record<string, (ps: readonly unknown[]) => Promise<Batch>> = {
    sample: (ps) => this.sample(ps as SamplePayload[]),
    score: (ps) => this.score(ps as PixelsPayload[]),
    encode: (ps) => this.encode(ps as PixelsPayload[]),
    decode: (ps) => this.decode(ps as LatentsPayload[]),
  };

  /** Labels of the batch, in order, when the model needs them (couplings that see the label). */
  private batchLabels(ps: ReadonlyArray<{ labels?: number[] }>): number[] | undefined {
    return this.model.classCouplings ? ps.flatMap((p) => p.labels!) : undefined;
  }

  private images(ps: readonly PixelsPayload[]): Tensor {
    const N = ps.reduce((a, p) => a + p.n, 0);
    const values = ps.length === 1 ? ps[0]!.pixels : new Float32Array(N * this.D);
    if (ps.length > 1) {
      let off = 0;
      for (const p of ps) { values.set(p.pixels, off); off += p.pixels.length; }
    }
    return this.engine.tensor(values, [N, ...this.model.config.model.inputShape]);
  }

  /** Flow output (logit space) → pixels as FlowModel.sample makes them, plus a per-image sum that is finite unless the output is not. */
  private toPixels(x: Tensor): [Tensor, Tensor] {
    const px = this.model.preprocess.decode(x);
    return [affine(relu(affine(relu(px), -1, 256)), -1, 256), sum(x, [1, 2, 3])];
  }

  /**
   * Pixels of each request in wire values (u − 0.5 in [0, 255]); a request with a non-finite image
   * gets `onNonFinite`'s failure instead.
   */
  private async split(ps: ReadonlyArray<{ n: number }>, out: Tensor, probe: Tensor, labels: number[] | null, onNonFinite: () => RunFailure): Promise<Batch> {
    let values: Float32Array, sums: Float32Array;
    try {
      [values, sums] = await Promise.all([out.data(), probe.data()]);
    } finally {
      out.dispose();
      probe.dispose();
    }
    const results: unknown[] = [], transfer: ArrayBuffer[] = [];
    let image = 0;
    for (const p of ps) {
      const bad = Array.from(sums.subarray(image, image + p.n)).some((s) => !Number.isFinite(s));
      if (bad) results.push(onNonFinite());
      else {
        const pixels = new Float32Array(p.n * this.D);
        const from = image * this.D;
        for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(255, Math.max(0, values[from + i]! - WIRE_SHIFT));
        results.push({ pixels, labels: labels ? labels.slice(image, image + p.n) : null } satisfies PixelsResult);
        transfer.push(pixels.buffer as ArrayBuffer);
      }
      image += p.n;
    }
    return { results, transfer };
  }

  private async sample(ps: readonly SamplePayload[]): Promise<Batch> {
    const m = this.model;
    await m.prepare();
    const [out, probe, labels] = this.engine.scope(() => {
      const draws = ps.map((p) => m.drawLatents(p.n, { temperature: p.temperature, seed: p.seed, ...(p.labels ? { labels: p.labels } : {}) }));
      const z = draws[0]!.z.map((t, i) => (draws.length === 1 ? t : concat(draws.map((d) => d.z[i]!), 0)));
      const drawn = m.prior ? draws.flatMap((d) => d.labels!) : null;
      const [px, sums] = this.toPixels(m.decode(z, drawn ?? undefined));
      return [px, sums, drawn] as const;
    });
    // Finite latents decode to non-finite pixels only when the weights are bad: every request fails alike.
    return this.split(ps, out, probe, labels, () => failure(500, `sample: the model produced non-finite pixels: ${CORRUPT}`));
  }

  private async score(ps: readonly PixelsPayload[]): Promise<Batch> {
    const m = this.model;
    const x = this.images(ps);
    try {
      let bpd: Float32Array, probs: Float32Array | null = null;
      if (m.prior) {
        const [lp, b] = this.engine.scope(() => {
          const lp = m.classLogProbs(x, { range: 'pixels' });
          return [lp, m.bitsPerDimFromClasses(lp)] as const;
        });
        try {
          const [lpv, bv] = await Promise.all([lp.data(), b.data()]);
          bpd = bv;
          probs = softmaxRows(lpv, m.classes);
        } finally {
          lp.dispose();
          b.dispose();
        }
      } else {
        const b = m.bitsPerDim(x, { range: 'pixels' });
        try { bpd = await b.data(); } finally { b.dispose(); }
      }
      const results: ScoreResult[] = [];
      let image = 0;
      for (const p of ps) {
        const K = m.classes;
        results.push({ bitsPerDim: bpd.slice(image, image + p.n), classProbs: probs ? probs.slice(image * K, (image + p.n) * K) : null });
        image += p.n;
      }
      return { results, transfer: results.flatMap((r) => [r.bitsPerDim.buffer as ArrayBuffer, ...(r.classProbs ? [r.classProbs.buffer as ArrayBuffer] : [])]) };
    } finally {
      x.dispose();
    }
  }

  private async encode(ps: readonly PixelsPayload[]): Promise<Batch> {
    const m = this.model;
    const x = this.images(ps);
    let z: Tensor[];
    try {
      z = this.engine.scope(() => m.encode(m.preprocess.encode(x).y, this.batchLabels(ps)).z);
    } finally {
      x.dispose();
    }
    let levels: Float32Array[];
    try {
      levels = await Promise.all(z.map((t) => t.data()));
    } finally {
      for (const t of z) t.dispose();
    }
    const sizes = z.map((t) => t.size / t.shape[0]!);
    const results: LatentsResult[] = [];
    let image = 0;
    for (const p of ps) {
      results.push({ latents: levels.map((v, i) => v.slice(image * sizes[i]!, (image + p.n) * sizes[i]!)) });
      image += p.n;
    }
    return { results, transfer: results.flatMap((r) => r.latents.map((l) => l.buffer as ArrayBuffer)) };
  }

  private async decode(ps: readonly LatentsPayload[]): Promise<Batch> {
    const m = this.model;
    await m.prepare();
    const shapes = m.flow.latentShapes();
    const N = ps.reduce((a, p) => a + p.n, 0);
    const z = shapes.map((s, i) => {
      const per = s.reduce((a, b) => a * b, 1);
      const values = new Float32Array(N * per);
      let off = 0;
      for (const p of ps) { values.set(p.latents[i]!, off); off += p.latents[i]!.length; }
      return this.engine.tensor(values, [N, ...s]);
    });
    let out: Tensor, probe: Tensor;
    try {
      [out, probe] = this.engine.scope(() => this.toPixels(m.decode(z, this.batchLabels(ps))));
    } finally {
      for (const t of z) t.dispose();
    }
    // Latents a client made up can overflow the flow: that is the request's problem, not the others'.
    return this.split(ps, out, probe, null, () => failure(400, 'decode: these latents decode to non-finite pixels (values far outside the N(0, 1) that encode gives?)'));
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Rows of log-probabilities → probabilities (p(y | x) ∝ p(x | y): the class prior weighs classes equally). */
function softmaxRows(lp: Float32Array, K: number): Float32Array {
  const out = new Float32Array(lp.length);
  for (let r = 0; r < lp.length / K; r++) {
    let top = -Infinity;
    for (let k = 0; k < K; k++) top = Math.max(top, lp[r * K + k]!);
    let total = 0;
    for (let k = 0; k < K; k++) total += (out[r * K + k] = Math.exp(lp[r * K + k]! - top));
    for (let k = 0; k < K; k++) out[r * K + k]! /= total;
  }
  return out;
}

export const flowRuntime: ModelRuntime = {
  kind: 'flow-model',
  async load(path, engine) {
    const model = await loadModel(path, { engine });
    await model.prepare();
    return new LoadedFlow(model);
  },
};
