/**
 * One annotation session on the server's main thread: what the page sees (the batch to label, the
 * status, the accuracy history), the checks on every submission, the labels file, and the engine
 * worker that runs each round. The main thread never trains or scores: it only validates, writes
 * the file and passes messages, so the page stays responsive while a round runs.
 */
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { imageSize } from '../../data/dataset.js';
import type { EngineOptions } from '../../engine/dispatcher.js';
import { describeValue } from '../../engine/errors.js';
import type { SeedClassifierConfig } from '../../models/seed-classifier/config.js';
import { badRequest, HttpError } from '../../serve/http-error.js';
import { objectBody } from '../../serve/body.js';
import type { AcquisitionName } from '../acquire.js';
import type { ActiveData } from '../data.js';
import type { RetrainOptions } from '../learner.js';
import { readLabelsFile, writeLabelsFile, type AnnotationRound, type LabelsFile } from './labels-file.js';
import type { FromAnnotateWorker, ToAnnotateWorker, WireDataset } from './protocol.js';
import { startAnnotateWorker } from './start-worker.js';

export interface AnnotationOptions {
  data: ActiveData;
  /** --out/labels.json: read on start if present, rewritten after every submit and every round. */
  labelsPath: string;
  acquisition: AcquisitionName;
  /** Images of the first batch when nothing is labelled yet (drawn at random: no model exists). */
  initial: number;
  /** Images per later batch unless a submission asks for another number. */
  batch: number;
  classifier: SeedClassifierConfig;
  retrain: RetrainOptions;
  mcPasses: number;
  jointSamples: number;
  seed: number;
  engine: EngineOptions;
}

/** starting → (training ↔ labelling)… → done when the pool is used up; failed if the worker fails. */
export type Phase = 'starting' | 'training' | 'labelling' | 'done' | 'failed';

export interface AnnotationState {
  phase: Phase;
  backend: string | null;
  data: string;
  classNames: string[];
  acquisition: AcquisitionName;
  pool: number;
  labelled: number;
  /** Pool positions to label now (empty unless phase is 'labelling'). */
  batch: number[];
  /** The default size of the next batch. */
  nextBatch: number;
  /** Retraining steps of the running round. */
  progress: { done: number; total: number } | null;
  rounds: AnnotationRound[];
  error: string | null;
}

const wire = (d: ActiveData['pool'], labels: boolean): WireDataset =>
  ({ name: d.name, images: d.images, labels: labels ? d.labels : null, count: d.count, shape: [...d.shape] as [number, number, number] });

/** One planar C × H × W image as a PNG of its own size (no grid border: the page scales it up). */
async function imagePng(chw: Uint8Array, [C, H, W]: readonly [number, number, number]): Promise<Uint8Array> {
  const hwc = new Uint8Array(C * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) hwc[p * C + c] = chw[c * H * W + p]!;
  let img = sharp(hwc, { raw: { width: W, height: H, channels: C as 1 | 3 } });
  if (C === 1) img = img.toColourspace('b-w');
  return new Uint8Array(await img.png().toBuffer());
}

export class AnnotationSession {
  private readonly file: LabelsFile;
  private readonly labels = new Map<number, number>();
  private worker: Worker | null = null;
  private phase: Phase = 'starting';
  private backend: string | null = null;
  private batch: number[] = [];
  private progress: AnnotationState['progress'] = null;
  private error: string | null = null;
  private roundId = 0;
  private readonly thumbs = new Map<number, Uint8Array>();

  /** Reads the labels file (an InflowError naming what is wrong with it). */
  constructor(private readonly o: AnnotationOptions) {
    const { data } = o;
    const expected = { data: data.description, pool: data.pool.count, classNames: data.classNames };
    this.file = readLabelsFile(o.labelsPath, expected) ?? { ...expected, labels: [], rounds: [] };
    for (const { index, label } of this.file.labels) this.labels.set(index, data.classNames.indexOf(label));
  }

  get resumed(): number { return this.file.labels.length; }

  /** Starts the worker; resolves once its engine is up and the first round is on its way. */
  start(): Promise<void> {
    const o = this.o;
    const worker = startAnnotateWorker({
      engine: o.engine, pool: wire(o.data.pool, false), test: wire(o.data.test, true), classifier: o.classifier,
      retrain: o.retrain, mcPasses: o.mcPasses, jointSamples: o.jointSamples, seed: o.seed,
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromAnnotateWorker) => {
        if (m.type === 'ready') {
          this.backend = m.backend;
          resolve();
          // Resuming: one round on every saved label; a cold start: a random first batch.
          const { indices, labels } = this.labelled();
          if (indices.length) this.send(indices, labels, o.acquisition, Math.min(o.batch, this.unlabelled));
          else this.send([], [], 'random', Math.min(o.initial, this.unlabelled));
        } else if (m.type === 'progress') {
          if (m.id === this.roundId) this.progress = { done: m.done, total: m.total };
        } else if (m.type === 'round') {
          this.finishRound(m);
        } else {
          this.fail(m.error);
          reject(new Error(m.error));
        }
      });
      worker.on('error', (e) => { this.fail(e.message.split('\n')[0]!); reject(e); });
      worker.on('exit', (code) => {
        if (this.worker) this.fail(`the engine worker stopped (exit code ${code})`);
        reject(new Error(`the engine worker stopped (exit code ${code})`));
      });
    });
  }

  private labelled(): { indices: number[]; labels: number[] } {
    return { indices: [...this.labels.keys()], labels: [...this.labels.values()] };
  }

  private get unlabelled(): number { return this.o.data.pool.count - this.labels.size; }

  private send(indices: number[], labels: number[], acquisition: AcquisitionName, batch: number): void {
    this.phase = 'training';
    this.progress = null;
    this.batch = [];
    this.worker!.postMessage({ type: 'round', id: ++this.roundId, indices, labels, acquisition, batch } satisfies ToAnnotateWorker);
  }

  private finishRound(m: Extract<FromAnnotateWorker, { type: 'round' }>): void {
    if (m.id !== this.roundId) return;
    const last = this.file.rounds.at(-1);
    // A resumed session retrains on the saved labels: the same count as the last saved round, not a new row.
    if (m.scores && last?.labels !== this.labels.size) {
      this.file.rounds.push({ labels: this.labels.size, accuracy: m.scores.accuracy, macroF1: m.scores.macroF1 });
      this.save();
    }
    this.progress = null;
    this.batch = m.batch;
    this.phase = m.batch.length ? 'labelling' : 'done';
  }

  private fail(error: string): void {
    this.phase = 'failed';
    this.error = error;
    this.batch = [];
  }

  private save(): void {
    writeLabelsFile(this.o.labelsPath, this.file);
  }

  state(): AnnotationState {
    const o = this.o;
    return {
      phase: this.phase, backend: this.backend, data: o.data.description, classNames: o.data.classNames, acquisition: o.acquisition,
      pool: o.data.pool.count, labelled: this.labels.size, batch: this.batch, nextBatch: Math.min(o.batch, this.unlabelled - this.batch.length),
      progress: this.progress, rounds: this.file.rounds, error: this.error,
    };
  }

  /**
   * `{ labels: [{ index, label }], batch? }`: labels (class names) for images of the shown batch —
   * all or some; the rest go back to the pool — and optionally the size of the next batch. Every
   * entry is checked before any is taken; the labels are on disk before the round starts.
   */
  submit(body: unknown): { accepted: number; nextBatch: number } {
    const op = 'POST /api/labels';
    const b = objectBody(op, body, ['labels', 'batch']);
    if (this.phase !== 'labelling') throw new HttpError(409, `${op}: no batch is waiting for labels (the session is ${this.phase}${this.error ? `: ${this.error}` : ''})`);
    const names = this.o.data.classNames;
    if (!Array.isArray(b.labels) || b.labels.length === 0) throw badRequest(`${op}: labels = ${describeValue(b.labels)} must be a non-empty array of { index, label }`);
    const shown = new Set(this.batch), seen = new Set<number>();
    const indices: number[] = [], labels: number[] = [];
    b.labels.forEach((e: unknown, n) => {
      const entry = objectBody(op, e, ['index', 'label'], `labels[${n}]`);
      const i = entry.index;
      if (typeof i !== 'number' || !shown.has(i)) throw badRequest(`${op}: labels[${n}].index = ${describeValue(i)} is not an image of the shown batch (${this.batch.join(', ')})`);
      if (seen.has(i)) throw badRequest(`${op}: image ${i} is labelled twice`);
      const y = typeof entry.label === 'string' ? names.indexOf(entry.label) : -1;
      if (y < 0) throw badRequest(`${op}: labels[${n}].label = ${describeValue(entry.label)} is not a class (the classes are ${names.join(', ')})`);
      seen.add(i);
      indices.push(i);
      labels.push(y);
    });
    const left = this.unlabelled - indices.length;
    let next = Math.min(this.o.batch, left);
    if (b.batch !== undefined) {
      if (typeof b.batch !== 'number' || !Number.isSafeInteger(b.batch) || b.batch < 1) throw badRequest(`${op}: batch = ${describeValue(b.batch)} must be a positive integer`);
      if (b.batch > left) throw badRequest(`${op}: batch = ${b.batch} is more than the ${left} images of the pool still unlabelled`);
      next = b.batch;
    }
    indices.forEach((i, n) => {
      this.labels.set(i, labels[n]!);
      this.file.labels.push({ index: i, label: names[labels[n]!]! });
    });
    this.save();
    this.send(indices, labels, this.o.acquisition, next);
    return { accepted: indices.length, nextBatch: next };
  }

  /** Pool image `index` as a PNG (cached: the page asks for each shown image once or twice). */
  async thumbnail(index: number): Promise<Uint8Array> {
    const pool = this.o.data.pool;
    if (!Number.isSafeInteger(index) || index < 0 || index >= pool.count) throw new HttpError(404, `no pool image ${describeValue(index)} (the pool has ${pool.count}: 0…${pool.count - 1})`);
    let png = this.thumbs.get(index);
    if (!png) {
      png = await imagePng(pool.images.subarray(index * imageSize(pool), (index + 1) * imageSize(pool)), pool.shape);
      this.thumbs.set(index, png);
    }
    return png;
  }

  /** Lets a running round finish (so the engine is freed cleanly), then stops the worker. */
  async close(graceMs = 5000): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void w.terminate(), graceMs);
      w.once('exit', () => { clearTimeout(timer); resolve(); });
      w.postMessage({ type: 'close' } satisfies ToAnnotateWorker);
    });
  }
}
