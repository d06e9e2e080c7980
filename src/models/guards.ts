/**
 * Argument and value checks of the model API (FlowModel, DigitClassifier). The CLI relies on these:
 * every failure is one InflowError line `FlowModel.sample: temperature = NaN must be …` naming the
 * argument and what it was. docs/memory-and-guards.md describes them for users.
 */
import { describeValue, fail, shapeStr } from '../engine/errors.js';
import type { Guard, Tensor } from '../engine/tensor.js';
import { readSync64 } from '../layers/host.js';
import { concat, max, neg, reshape, sum } from '../ops/index.js';

/**
 * Highest sampling temperature. Latents are N(0, T²I): past a few T the decoded images are noise,
 * and huge values overflow float32 inside the flow (1e30 gave black images), so 10 is generous.
 * T = 0 is allowed: it decodes the mean latent (the class mean with a class prior).
 */
export const MAX_TEMPERATURE = 10;

/**
 * Dequantised pixels lie in [0, 256): integers 0…255 plus uniform noise in [0, 1). 256 itself is
 * accepted because float32 rounds 255 + u up to 256 for u within 2⁻¹⁷ of 1, so real training and
 * evaluation batches contain it (the logit preprocessing keeps it finite through α).
 */
export const PIXEL_MAX = 256;

/**
 * How a scoring method reads its pixels. 'pixels': dequantised pixels in [0, 256]. 'unit': images
 * scaled to [0, 1], multiplied by 256 before scoring. Unset: pixels, but a batch whose every value
 * lies in [0, 1] is refused as probably normalised (pass 'pixels' to score such dark images).
 */
export type PixelRange = 'pixels' | 'unit';

export function checkTensorArg(op: string, name: string, x: unknown): Tensor {
  if (x === null || typeof x !== 'object' || typeof (x as Tensor).dispose !== 'function' || !Array.isArray((x as Tensor).shape))
    fail(op, `${name} must be a tensor (make one with engine.tensor(values, shape)), got ${describeValue(x)}`);
  (x as Tensor).assertLive(op);
  return x as Tensor;
}

/** A positive whole number of images (`n`, a batch size). */
export function checkCount(op: string, name: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) fail(op, `${name} = ${describeValue(n)} must be a positive integer`);
  return n;
}

export function checkTemperature(op: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > MAX_TEMPERATURE)
    fail(op, `temperature = ${describeValue(t)} must be a finite number in [0, ${MAX_TEMPERATURE}] (1 samples the model as trained; lower is cleaner)`);
  return t;
}

/** An options argument: undefined, or a plain object with only the listed keys. */
export function checkOptions<T extends object>(op: string, opts: unknown, known: readonly string[]): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    fail(op, `options = ${describeValue(opts)} must be an object with ${known.join(', ')}`);
  for (const k of Object.keys(opts))
    if (!known.includes(k)) fail(op, `unknown option ${describeValue(k)} (known: ${known.join(', ')})`);
  return opts as Partial<T>;
}

export function checkEnum<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) fail(op, `${name} = ${describeValue(v)} must be ${allowed.map((a) => `'${a}'`).join(' or ')}`);
  return v as T;
}

/** Class labels: an array (or typed array) of integers in 0…classes − 1. */
export function checkLabels(op: string, labels: unknown, classes: number): ArrayLike<number> {
  const ok = Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView));
  if (!ok) fail(op, `labels = ${describeValue(labels)} must be an array of class numbers (0…${classes - 1})`);
  const list = labels as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const y = list[i];
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= classes)
      fail(op, `label ${describeValue(y)} (image ${i}) is not a class of this model (0…${classes - 1})`);
  }
  return list as ArrayLike<number>;
}

// ---- pixels in, values out ----------------------------------------------------------------------

/**
 * The checks of one scoring call. Where the backend reads synchronously (reference, wasm) the input
 * is scanned on the host at once and a bad pixel throws before anything runs, naming the first one.
 * WebGPU cannot read synchronously and these methods return tensors synchronously, so there the
 * check runs on the device (sum, max and −min of the batch: three numbers) and its verdict becomes
 * a Guard on the result, which data() / item() wait for: the result cannot be read unless the check
 * passed, and tensors computed from it inherit the guard (src/engine/tensor.ts).
 */
export class ValueChecks {
  /** The device statistics still to be read (WebGPU only): [Σx, max x, −min x]. */
  private stats: Tensor | null = null;
  /** What each part of the device statistics means, in read order. */
  private readonly verdicts: Array<(stats: Float32Array) => string | null> = [];

  constructor(private readonly op: string) {}

  /** Checks a batch of pixels; `range` as in PixelRange, `unitHint` refuses all-in-[0, 1] batches when range is unset. */
  pixels(x: Tensor, range: PixelRange | undefined, unitHint = true): void {
    const hi = range === 'unit' ? 1 : PIXEL_MAX;
    const values = readSync64(x);
    if (values) {
      let first = -1, bad = 0, allUnit = true;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!(v >= 0 && v <= hi)) {
          if (first < 0) first = i;
          bad++;
        } else if (v > 1) allUnit = false;
      }
      if (first >= 0) {
        const others = bad > 1 ? ` (nor are ${bad - 1} other pixels)` : '';
        fail(this.op, `pixel ${shapeStr(indexOf(first, x.shape))} = ${describeValue(values[first])} is not in [0, ${hi}]${others}: ${expectation(range)}`);
      }
      if (allUnit && range === undefined && unitHint && values.length > 0) fail(this.op, unitMessage());
      return;
    }
    const e = x.engine;
    this.stats = e.noGrad(() => {
      const flat = reshape(x, [x.size]);
      return concat([reshape(sum(flat), [1]), reshape(max(flat), [1]), reshape(max(neg(flat)), [1])], 0);
    });
    this.verdicts.push((s) => {
      const [total, top, negLow] = [s[0]!, s[1]!, s[2]!];
      if (!Number.isFinite(total) || !Number.isFinite(top) || !Number.isFinite(negLow))
        return `${this.op}: the pixels include NaN or ±Infinity: ${expectation(range)}`;
      if (-negLow < 0 || top > hi) return `${this.op}: the pixels range over [${short(-negLow)}, ${short(top)}], outside [0, ${hi}]: ${expectation(range)}`;
      if (top <= 1 && range === undefined && unitHint && x.size > 0) return `${this.op}: ${unitMessage()}`;
      return null;
    });
  }

  /**
   * Refuses a non-finite result (`what` names it: "bits/dim"): with finite, in-range inputs only the
   * weights can make one. Skipped while a gradient tape records: training has its own non-finite
   * step guard (src/train/loop.ts), which skips the step instead of failing.
   */
  output(out: Tensor, what: string): void {
    if (out.engine.isRecording()) return this.finish(out, null);
    const values = this.stats ? null : readSync64(out);
    if (values) {
      const i = values.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) {
        const n = out.rank > 0 ? Math.floor(i / (out.size / out.shape[0]!)) : 0;
        fail(this.op, `the model produced a non-finite ${what} (${describeValue(values[i])}) for image ${n}: ${CORRUPT}`);
      }
      return this.finish(out, null);
    }
    const probe = out.engine.noGrad(() => reshape(sum(reshape(out, [out.size])), [1]));
    this.verdicts.push((s) => (Number.isFinite(s[s.length - 1]!) ? null : `${this.op}: the model produced a non-finite ${what}: ${CORRUPT}`));
    this.finish(out, probe);
  }

  /** Reads the device statistics once (one transfer for input and output checks) into a guard on `out`. */
  private finish(out: Tensor, probe: Tensor | null): void {
    const parts = [this.stats, probe].filter((t): t is Tensor => t !== null);
    if (parts.length === 0) return;
    const e = out.engine;
    const all = parts.length === 1 ? parts[0]! : e.noGrad(() => concat(parts, 0));
    // The backend enqueues the copy before its first await, so the tensors can go now.
    const size = all.size;
    const read = all.ref.backend.read(all.ref.storage).then((d) => d.subarray(0, size));
    for (const t of new Set([...parts, all])) t.dispose();
    this.stats = null;
    const verdicts = this.verdicts.splice(0);
    const guard: Guard = read.then((s) => {
      for (const v of verdicts) {
        const msg = v(s);
        if (msg) return msg;
      }
      return null;
    });
    out.addGuard(guard);
  }
}

/** Weights that pass the loader but make the model's outputs overflow. */
export const CORRUPT = 'its weights are corrupt or out of range';

function expectation(range: PixelRange | undefined): string {
  return range === 'unit'
    ? "with { range: 'unit' } the model takes images scaled to [0, 1]"
    : 'the model takes dequantised pixels, 0…255 plus uniform noise in [0, 1)';
}

function unitMessage(): string {
  return "every pixel lies in [0, 1]: these look like normalised images, but the model takes dequantised pixels in [0, 256); " +
    "pass { range: 'unit' } to rescale them ×256, or { range: 'pixels' } if they really are that dark";
}

/** A float32 statistic as a person would write it (0.1, not 0.10000000149011612). */
const short = (v: number): string => describeValue(Number(v.toPrecision(7)));

/** Multi-index of flat position i in a row-major shape. */
function indexOf(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    out[a] = i % shape[a]!;
    i = Math.floor(i / shape[a]!);
  }
  return out;
}
