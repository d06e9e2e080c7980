/**
 * One fuzz worker process (forked by fuzz/runner.ts with --expose-gc). For each case the parent
 * sends, it resets its peak RSS (/proc/self/clear_refs ← 5), loads the file on a fresh wasm engine
 * (threads 1, the run's memory budget), samples 2 images and scores a valid batch, and reports the
 * outcome with its own VmHWM before taking the next case. It installs no uncaughtException
 * handler: an error that escapes the library's promises must kill it, which the parent reports as
 * a crash.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createEngine } from '../src/engine/dispatcher.js';
import { InflowError } from '../src/engine/errors.js';
import { loadModel } from '../src/io/model-file.js';
import { ModelFileError } from '../src/io/safetensors.js';
import type { FlowModel } from '../src/models/index.js';
import type { Tensor } from '../src/engine/tensor.js';
import { Prng } from './generate.js';
import { classifyError, type ChildCase, type ChildResult, type Probe, type ToParent } from './protocol.js';

const send = (m: ToParent): Promise<void> => new Promise((resolve) => process.send!(m, undefined, undefined, () => resolve()));

function status(): { rss: number; hwm: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const gc = (globalThis as { gc?: () => void }).gc;

function resetPeak(): boolean {
  gc?.();
  gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** A model's own input shape when it is usable as a test batch, else the base file's. */
function batchShape(model: FlowModel, fallback: [number, number, number]): [number, number, number] {
  const s = (model.config as { model?: { inputShape?: unknown } }).model?.inputShape;
  if (Array.isArray(s) && s.length === 3 && s.every((d) => Number.isSafeInteger(d) && d > 0) && s[0] * s[1] * s[2] <= 1 << 16) return s as [number, number, number];
  return fallback;
}

type CaseAnswer = Omit<ChildResult, 'type' | 'index' | 'peakBytes' | 'startRssBytes' | 'ms'>;

/** The harness's own checks: each misbehaves the way a library bug would. */
async function runProbe(probe: Probe, spikeBytes: number): Promise<CaseAnswer> {
  const held: Uint8Array[] = [];
  switch (probe) {
    case 'allocate':
      // bounded in case the parent does not kill it: the check then fails instead of the machine
      for (let i = 0; i < 64; i++) {
        held.push(new Uint8Array(64 * 2 ** 20).fill(1));
        await new Promise((r) => setTimeout(r, 5));
      }
      return { outcome: 'accepted', stage: 'load', message: `allocated ${held.length * 64} MiB and was not stopped` };
    case 'spike': {
      // touched then dropped within one poll interval, so only the reported VmHWM shows it
      const a = new Uint8Array(spikeBytes).fill(1);
      const touched = a[0]! + a[a.length - 1]!;
      gc?.();
      return { outcome: 'accepted', stage: 'load', message: `a peak of ${spikeBytes} bytes (${touched}), released` };
    }
    case 'spin':
      for (;;) held.length = 0;
    case 'exit':
      process.exit(3);
    case 'internal':
      return { ...classifyError(new TypeError("Cannot read properties of undefined (reading 'shape')"), false), stage: 'load' };
  }
}

async function runCase(c: ChildCase): Promise<CaseAnswer> {
  if (c.probe) return runProbe(c.probe, c.memoryBudget);
  const engine = await createEngine({ backend: 'wasm', threads: 1, memoryBudget: c.memoryBudget });
  let model: FlowModel | null = null;
  let stage: ChildResult['stage'] = 'load';
  try {
    model = await loadModel(c.mode === 'path' ? c.path : new Uint8Array(readFileSync(c.path)), { engine });
    stage = 'sample';
    const s: Tensor = await model.sample(2, { seed: 1 });
    const px = await s.data();
    const sampleShape = [...s.shape];
    s.dispose();
    stage = 'bitsPerDim';
    const shape = batchShape(model, c.baseShape);
    const rng = new Prng(c.index, 7);
    const n = 2 * shape[0] * shape[1] * shape[2];
    const x = engine.tensor(Float32Array.from({ length: n }, () => Math.floor(rng.float() * 256) + rng.float() * 0.999), [2, ...shape]);
    // Without a scope, as the README's library pattern calls it.
    const bpd = await model.bitsPerDim(x).data();
    stage = 'check';
    const declared = (model.config as { model?: { inputShape?: unknown }; architecture?: { inputShape?: unknown } });
    const nonFinite = [...px].filter((v) => !Number.isFinite(v)).length + [...bpd].filter((v) => !Number.isFinite(v)).length;
    if (nonFinite) return { outcome: 'silent-nonfinite', stage, message: `${nonFinite} non-finite values in sample/bitsPerDim (bits/dim ${[...bpd].join(', ')})` };
    const want = JSON.stringify([2, ...((declared.model?.inputShape as number[]) ?? [])]);
    if (JSON.stringify(sampleShape) !== want || (declared.architecture && JSON.stringify(declared.architecture.inputShape) !== JSON.stringify(declared.model?.inputShape)))
      return { outcome: 'silent-mismatch', stage, message: `sample shape ${JSON.stringify(sampleShape)}, model inputShape ${JSON.stringify(declared.model?.inputShape)}, architecture inputShape ${JSON.stringify(declared.architecture?.inputShape)}` };
    return { outcome: c.invalid ? 'accepted-invalid' : 'accepted', stage, message: `bits/dim ${[...bpd].map((v) => v.toFixed(3)).join(', ')}` };
  } catch (e) {
    return { ...classifyError(e, e instanceof InflowError || e instanceof ModelFileError), stage };
  } finally {
    try {
      model?.dispose();
    } catch { /* a half-built model may not dispose cleanly; the engine goes next anyway */ }
    engine.dispose();
  }
}

process.on('message', (m: ChildCase) => {
  void (async () => {
    const clearRefs = resetPeak();
    const start = status();
    await send({ type: 'start', index: m.index, clearRefs, startRssBytes: start.rss });
    const t0 = performance.now();
    const r = await runCase(m);
    const ms = performance.now() - t0;
    const peak = status().hwm;
    await send({ type: 'result', index: m.index, ...r, peakBytes: peak, startRssBytes: start.rss, ms });
  })();
});

await send({ type: 'ready', pid: process.pid });
