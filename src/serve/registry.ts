/**
 * How a kind of model plugs into `inflow serve`. A kind has two halves: the routes (main thread:
 * check a request, describe the model, shape the reply) and the runtime (worker thread: load the
 * file on the worker's engine, run a batch). Flow models are the first kind (src/serve/flow/);
 * later kinds (restore, upscale, inpaint, anonymise) add their ModelRoutes to src/serve/kinds.ts
 * and their ModelRuntime to src/serve/runtimes.ts — the server, the batcher, the worker pool,
 * metrics and the OpenAPI document pick them up unchanged.
 */
import type { FastifyReply } from 'fastify';
import type { Engine } from '../engine/engine.js';

/** A model file the server was given, checked on the main thread before any worker starts. */
export interface ServedModel {
  /** The name in the URL: /v1/models/{name}/… */
  name: string;
  path: string;
  /** The `kind` of the file's config; picks the ModelRoutes / ModelRuntime. */
  kind: string;
  /** What the routes of this kind need to check requests without a worker (the parsed config, limits). */
  meta: unknown;
  /** Most images one request may ask for (--max-n, capped by the memory budget). */
  maxN: number;
  /** Most images the batcher merges into one call (--max-batch, capped by the memory budget). */
  maxBatch: number;
}

/** One checked request, ready to queue: what the worker gets, and how many images it counts for. */
export interface Job {
  /** Sent to the worker's ModelRuntime.run as one element of its batch (structured-cloneable). */
  payload: unknown;
  /** Images this request adds to a batch (the batcher's --max-batch counts these). */
  images: number;
  /** ArrayBuffers inside the payload that may be moved to the worker instead of copied. */
  transfer?: ArrayBuffer[];
  /** Anything the reply needs that the worker does not (format, seed, …). */
  context?: unknown;
}

/** A POST /v1/models/{name}/{endpoint} route of a kind. */
export interface Endpoint {
  name: string;
  summary: string;
  description: string;
  /** Request content types; any other is refused with 415. */
  consumes: readonly string[];
  /** OpenAPI body and response schemas (documentation: requests are checked by `parse`). */
  body: Record<string, unknown>;
  responses: Record<string, unknown>;
  /** Whether concurrent requests may share a worker call (false: each request runs alone). */
  batchable: boolean;
  /** Checks the request (throwing HttpError with one line on a bad one) and builds its job. */
  parse(request: { body: unknown; contentType: string | undefined }, model: ServedModel): Job | Promise<Job>;
  /** Sends the worker's result for this request. */
  reply(result: unknown, job: Job, reply: FastifyReply, model: ServedModel): unknown;
}

/** The main-thread half of a kind. */
export interface ModelRoutes {
  kind: string;
  /**
   * Reads and checks the file without building it: meta and the largest batch the budget allows.
   * Throws (one line) if the file is unusable or not of this kind; the server offers each file to
   * the kinds in order and reports the first kind's error if none takes it.
   */
  inspect(path: string, memoryBudget: number): { meta: unknown; budgetBatch: number };
  /** The GET /v1/models entry. */
  describe(model: ServedModel, backend: string | null): Record<string, unknown>;
  endpoints: readonly Endpoint[];
}

/** A result that refuses one request of a batch (the others still get theirs). */
export interface RunFailure { failed: true; status: number; error: string }

export const isFailure = (r: unknown): r is RunFailure => typeof r === 'object' && r !== null && (r as RunFailure).failed === true;

/** A model loaded on one worker's engine. */
export interface LoadedModel {
  /** One pass through every endpoint, so the first real request pays no first-call costs. */
  warmUp(): Promise<void>;
  /**
   * Runs one batch: `payloads` are the jobs of concurrent requests, merged into as few engine
   * calls as the endpoint allows. Returns one result (or RunFailure) per payload, in order, and the buffers to move.
   */
  run(endpoint: string, payloads: readonly unknown[]): Promise<{ results: unknown[]; transfer: ArrayBuffer[] }>;
  dispose(): void;
}

/** The worker-thread half of a kind. */
export interface ModelRuntime {
  kind: string;
  load(path: string, engine: Engine): Promise<LoadedModel>;
}
