import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchEvent } from './batcher.js';
import type { EngineMemory } from './protocol.js';

/**
 * The server's Prometheus metrics (GET /metrics), in a registry of its own so that several servers
 * in one process (tests) do not share counters. docs/serve.md lists them. The process metrics of
 * prom-client (resident memory, heap, event-loop lag, …) come with them.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'inflow_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'inflow_http_request_duration_seconds',
    help: 'Time from a request\'s arrival to its response, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly batchImages = new Histogram({
    name: 'inflow_batch_size_images',
    help: 'Images per batch sent to a worker, by model and endpoint',
    labelNames: ['model', 'endpoint'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly batchRequests = new Histogram({
    name: 'inflow_batch_size_requests',
    help: 'Requests merged into one batch, by model and endpoint',
    labelNames: ['model', 'endpoint'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'inflow_requests_in_flight',
    help: 'HTTP requests received and not yet answered',
    registers: [this.registry],
  });

  readonly engineBytes = new Gauge({
    name: 'inflow_engine_memory_bytes',
    help: 'Bytes of live tensors on each worker\'s engine (weights included), reported after every batch',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });

  readonly engineTensors = new Gauge({
    name: 'inflow_engine_tensors',
    help: 'Live tensors on each worker\'s engine, reported after every batch',
    labelNames: ['worker'] as const,
    registers: [this.registry],
  });

  constructor(sources: { queueDepth(): number; workersReady(): number; workersBusy(): number }) {
    new Gauge({
      name: 'inflow_queue_depth',
      help: 'Requests waiting for a worker',
      registers: [this.registry],
      collect() { this.set(sources.queueDepth()); },
    });
    new Gauge({
      name: 'inflow_workers_ready',
      help: 'Workers that have loaded and warmed up every model',
      registers: [this.registry],
      collect() { this.set(sources.workersReady()); },
    });
    new Gauge({
      name: 'inflow_workers_busy',
      help: 'Workers running a batch',
      registers: [this.registry],
      collect() { this.set(sources.workersBusy()); },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  batch(e: BatchEvent): void {
    this.batchImages.observe({ model: e.model, endpoint: e.endpoint }, e.images);
    this.batchRequests.observe({ model: e.model, endpoint: e.endpoint }, e.requests);
  }

  memory(worker: number, m: EngineMemory): void {
    this.engineBytes.set({ worker: String(worker) }, m.bytes);
    this.engineTensors.set({ worker: String(worker) }, m.tensors);
  }
}
