/** Messages between the annotation server (main thread) and its engine worker (src/active/annotate/worker.ts). */
import type { EngineOptions } from '../../engine/dispatcher.js';
import type { SeedClassifierConfig } from '../../models/seed-classifier/config.js';
import type { AcquisitionName } from '../acquire.js';
import type { RetrainOptions } from '../learner.js';
import type { HeldOutScores } from '../scores.js';

/** A dataset as it crosses to the worker: plain typed arrays, copied once at start. */
export interface WireDataset { name: string; images: Uint8Array; labels: Int32Array | null; count: number; shape: [number, number, number] }

export interface AnnotateWorkerInit {
  engine: EngineOptions;
  pool: WireDataset;
  test: WireDataset;
  classifier: SeedClassifierConfig;
  retrain: RetrainOptions;
  mcPasses: number;
  jointSamples: number;
  seed: number;
}

/**
 * One round: take the new labels, and unless no label exists yet, retrain and evaluate; then acquire
 * `batch` images (0: none, the pool is used up). `acquisition` is 'random' on a cold start, where
 * there is no classifier to score the pool with.
 */
export type ToAnnotateWorker =
  | { type: 'round'; id: number; indices: number[]; labels: number[]; acquisition: AcquisitionName; batch: number }
  | { type: 'close' };

export type FromAnnotateWorker =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'round'; id: number; scores: HeldOutScores | null; batch: number[]; trainSeconds: number; acquireSeconds: number }
  | { type: 'failed'; id: number | null; error: string };
