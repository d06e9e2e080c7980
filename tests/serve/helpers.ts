import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { fincFlow, presets } from '../../src/models/index.js';
import { cliPath } from '../helpers/cli.js';

export const bundledModel = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));

/** An untrained RGB flow without classes (3×8×8), saved to a temporary folder: the other code paths of a flow. */
export async function tinyRgbModel(): Promise<string> {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const path = join(mkdtempSync(join(tmpdir(), 'inflow-serve-')), 'tiny-rgb.safetensors');
  const model = fincFlow({ ...presets.tiny!, inputShape: [3, 8, 8] }, { engine, seed: 1 });
  await saveModel(model, path);
  engine.dispose();
  return path;
}

/** A W×H image, `channels` 1 or 3, as PNG (or JPEG) bytes; pixel p of channel c is fill(p, c). */
export async function image(W: number, H: number, channels: 1 | 3, fill: (p: number, c: number) => number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const raw = Buffer.alloc(W * H * channels);
  for (let p = 0; p < W * H; p++) for (let c = 0; c < channels; c++) raw[p * channels + c] = fill(p, c);
  const img = sharp(raw, { raw: { width: W, height: H, channels } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 95 }).toBuffer();
}

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  /** stderr so far (the JSON log). */
  stderr(): string;
  /** Resolves with the exit code once the process has ended and its output has been read. */
  exited: Promise<number | null>;
}

/**
 * `inflow serve` as a user runs it: a child process (node src/cli/inflow.mjs serve …). Resolves
 * once it has printed its listening line and, unless `waitReady` is false, /readyz answers 200.
 */
export async function startServe(args: readonly string[], waitReady = true): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [cliPath, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  // 'close', not 'exit': it comes after the last of stderr has been read.
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^inflow serve: listening on http:\/\/[^\s]+:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`inflow serve exited with ${code} before listening: ${err}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  if (waitReady) {
    for (;;) {
      const r = await fetch(`${url}/readyz`).catch(() => null);
      if (r?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { proc, port, url, stderr: () => err, exited };
}

/** The JSON lines of a log, parsed (every line must be JSON). */
export const logLines = (text: string): Array<Record<string, unknown>> =>
  text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);

/** A metric's value from Prometheus text, or undefined; `labels` must all match. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(\{([^}]*)\})? (\S+)$/i.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return undefined;
}
