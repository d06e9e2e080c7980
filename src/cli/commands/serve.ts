import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_THREADS } from '../../engine/budget.js';
import { defaults } from '../../serve/server.js';
import { serve } from '../../serve/serve.js';
import { backendOption, engineOptions, memoryBudgetOption, webgpuKernelsOption, type EngineFlags } from '../engine-option.js';
import { parseNonNegativeInt, parseNumber, parsePositiveInt, parseSize } from '../options.js';

interface ServeFlags extends EngineFlags {
  model: Array<{ name: string; path: string }>;
  host: string;
  port: number;
  workers: number;
  maxBatch: number;
  maxDelayMs: number;
  batching: boolean;
  queue: number;
  timeoutMs: number;
  bodyLimit: number;
  maxN: number;
  logLevel: string;
  faceWeights?: string;
  plateModel?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** --model name=path, repeatable. */
function parseModel(value: string, previous: ServeFlags['model'] = []): ServeFlags['model'] {
  const eq = value.indexOf('=');
  const name = value.slice(0, eq), path = value.slice(eq + 1);
  if (eq < 1 || !path) throw new InvalidArgumentError(`expected <name>=<file>, e.g. mnist=models/finc-mnist.safetensors, got '${value}'`);
  if (!NAME.test(name)) throw new InvalidArgumentError(`the name '${name}' must be letters, digits, '.', '_' or '-' (it appears in URLs: /v1/models/<name>/…)`);
  return [...previous, { name, path }];
}

function parsePort(value: string): number {
  const p = parseNonNegativeInt(value);
  if (p > 65535) throw new InvalidArgumentError(`expected a port number 0…65535, got '${value}'`);
  return p;
}

function parseDelay(value: string): number {
  const d = parseNumber(value);
  if (d < 0) throw new InvalidArgumentError(`expected a number of milliseconds ≥ 0, got '${value}'`);
  return d;
}

function parseWorkers(value: string): number {
  const n = parsePositiveInt(value);
  if (n > MAX_THREADS) throw new InvalidArgumentError(`expected at most ${MAX_THREADS} workers, got '${value}'`);
  return n;
}

/** `inflow serve`: model files over HTTP. docs/serve.md describes the endpoints and options. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('serve model files over HTTP: sample, score, encode and decode under /v1, with dynamic batching, health, readiness and Prometheus metrics (docs/serve.md)')
    .requiredOption('--model <name=file>', 'a model to serve as /v1/models/<name>; repeat for more', parseModel)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port; the listening line says which)', parsePort, 8080)
    .option('--workers <n>', 'inference worker threads, each with its own engine and copy of the models', parseWorkers, defaults.workers)
    .option('--max-batch <n>', 'most images merged into one batch', parsePositiveInt, defaults.maxBatch)
    .option('--max-delay-ms <ms>', 'longest a request waits for others to share its batch', parseDelay, defaults.maxDelayMs)
    .option('--no-batching', 'run every request as its own batch')
    .option('--queue <n>', 'most requests waiting for a worker; more are answered 503 with Retry-After', parsePositiveInt, defaults.queue)
    .option('--timeout-ms <ms>', 'longest a request may take, queue included; longer is answered 504', parsePositiveInt, defaults.timeoutMs)
    .option('--body-limit <size>', 'largest request body, e.g. 8M; larger is answered 413', parseSize, defaults.bodyLimit)
    .option('--max-n <n>', 'most images one request may ask for or send (the memory budget may lower it)', parsePositiveInt, defaults.maxN)
    .addOption(backendOption())
    .addOption(new Option('--threads <n>', 'wasm threads per worker, at most 64 (default: all cores with one worker, 1 with more)').argParser(parsePositiveInt))
    .addOption(memoryBudgetOption())
    .addOption(webgpuKernelsOption())
    .option('--face-weights <dir>', "face-api's model folder for POST /anonymize: the detector, and the recognition network for verify=true (default: the installed @vladmandic/face-api)")
    .option('--plate-model <file|none>', 'plate detector for POST /anonymize?plates=true (default: the bundled models/plate-detector.safetensors; none: plates=true answers 503)')
    .addOption(new Option('--log-level <level>', 'JSON log on stderr: one line per request at info').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .action(async (flags: ServeFlags) => {
      await serve({
        models: flags.model,
        host: flags.host,
        port: flags.port,
        workers: flags.workers,
        maxBatch: flags.maxBatch,
        maxDelayMs: flags.maxDelayMs,
        batching: flags.batching,
        queue: flags.queue,
        timeoutMs: flags.timeoutMs,
        bodyLimit: flags.bodyLimit,
        maxN: flags.maxN,
        engine: engineOptions(flags),
        logger: { level: flags.logLevel, stream: process.stderr },
        ...(flags.faceWeights !== undefined ? { faceWeights: flags.faceWeights } : {}),
        ...(flags.plateModel !== undefined ? { plateModel: flags.plateModel === 'none' ? false : flags.plateModel } : {}),
      });
    });
}
