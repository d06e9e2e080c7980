import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { mnistSplit } from '../../src/data/mnist.js';
import { Rng } from '../../src/data/rng.js';
import type { BatchShape, ImageBatch } from '../../src/image/batch.js';
import { degrade, DEGRADATION_KINDS, degradationSettings } from '../../src/image/degrade/degrade.js';
import { diskKernel } from '../../src/image/degrade/defocus-blur.js';
import { gaussianNoise } from '../../src/image/degrade/gaussian-noise.js';
import { jpegArtifacts } from '../../src/image/degrade/jpeg.js';
import { lineKernel } from '../../src/image/degrade/motion-blur.js';
import { poissonNoise } from '../../src/image/degrade/poisson-noise.js';
import { randomDegradation } from '../../src/image/degrade/random.js';
import { psnr } from '../../src/image/psnr.js';
import { datasetBatch } from '../../src/image/range.js';

/** Four real held-out digits, in [−1, 1]. */
const digits = datasetBatch(mnistSplit().test, [0, 1, 2, 3]);

/** PSNR of the whole batch from its pooled MSE: finite unless every digit is untouched. */
function pooledPsnr(a: ImageBatch, b: ImageBatch): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += (a.data[i]! - b.data[i]!) ** 2;
  return 10 * Math.log10(4 / (sum / a.data.length));
}

/** A smooth colour picture with edges: gradients, a disc and a bar (what JPEG and blur act on). */
function colourPicture(h: number, w: number): ImageBatch {
  const data = new Float32Array(3 * h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const disc = (x - w / 3) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2, bar = Math.abs(x - (3 * w) / 4) < 3;
      data[y * w + x] = disc ? 0.8 : -0.6 + (1.2 * x) / w;
      data[h * w + y * w + x] = bar ? -0.9 : -0.5 + (1.1 * y) / h;
      data[2 * h * w + y * w + x] = disc ? -0.7 : 0.3 * Math.sin(x / 3);
    }
  return { data, shape: [1, 3, h, w] };
}

describe('every degradation', () => {
  it('is the identity at strength 0', () => {
    for (const kind of DEGRADATION_KINDS) expect(Array.from(degrade(digits, kind, 0, 1).data), kind).toEqual(Array.from(digits.data));
  });

  it('gives the same result for the same seed, leaves its input alone, and keeps values finite in [−1, 1]', () => {
    const before = digits.data.slice();
    for (const kind of DEGRADATION_KINDS) {
      const a = degrade(digits, kind, 0.7, 42), b = degrade(digits, kind, 0.7, new Rng(42));
      expect(Array.from(a.data), kind).toEqual(Array.from(b.data));
      expect(a.data.every((v) => Number.isFinite(v) && v >= -1 && v <= 1), kind).toBe(true);
    }
    expect(Array.from(digits.data)).toEqual(Array.from(before));
  });

  it('draws new randomness for another seed where it is random', () => {
    for (const kind of ['gaussian-noise', 'poisson-noise', 'motion-blur', 'scratches'] as const)
      expect(Array.from(degrade(digits, kind, 0.7, 1).data), kind).not.toEqual(Array.from(degrade(digits, kind, 0.7, 2).data));
  });

  it('lowers PSNR on real MNIST digits as the strength grows (0.25, 0.5, 1)', () => {
    for (const kind of DEGRADATION_KINDS) {
      const [p1, p2, p3] = [0.25, 0.5, 1].map((s) => pooledPsnr(digits, degrade(digits, kind, s, 7)));
      expect(p1, kind).toBeGreaterThanOrEqual(p2!);
      expect(p2, kind).toBeGreaterThanOrEqual(p3!);
      expect(p1, kind).toBeGreaterThan(p3!);
      expect(Number.isFinite(p3), kind).toBe(true);
    }
  });

  it('works on colour images too, and keeps their shape', () => {
    const pic = colourPicture(20, 26);
    for (const kind of DEGRADATION_KINDS) {
      const out = degrade(pic, kind, 0.6, 3);
      expect(out.shape, kind).toEqual(pic.shape);
      expect(psnr(pic, out, 2), kind).toBeLessThan(Infinity);
    }
  });

  it('refuses a bad strength, an unknown kind and values outside [−1, 1], in one line', () => {
    expect(() => degrade(digits, 'jpeg', 1.5, 1)).toThrow(/degrade: strength = 1.5 must be a number from 0 to 1/);
    expect(() => degrade(digits, 'blur' as never, 0.5, 1)).toThrow(/unknown degradation "blur"; the kinds are fading, scratches/);
    const pixels: ImageBatch = { data: digits.data.map((v) => (v + 1) * 127.5), shape: digits.shape };
    expect(() => degrade(pixels, 'fading', 0.5, 1)).toThrow(/value [\d.]+ at index \d+ is outside \[−1, 1\]; degradations take images in \[−1, 1\]/);
    expect(() => degrade(digits, 'fading', 0.5, -1)).toThrow(/rng = -1 must be an Rng or a seed|seed = -1 must be an integer/);
  });
});

describe('the noise models', () => {
  const grey = (v: number, n = 20000): ImageBatch => ({ data: new Float32Array(n).fill(v), shape: [1, 1, 100, n / 100] as BatchShape });
  const stats = (d: Float32Array): [number, number] => {
    const m = d.reduce((s, v) => s + v, 0) / d.length;
    return [m, d.reduce((s, v) => s + (v - m) ** 2, 0) / d.length];
  };

  it('Gaussian noise has the asked standard deviation', () => {
    const [m, v] = stats(gaussianNoise(grey(0), 0.1, 5).data);
    expect(Math.abs(m)).toBeLessThan(0.005);
    expect(Math.sqrt(v)).toBeCloseTo(0.1, 2);
  });

  it('Poisson noise has mean and variance p·peak photons, below and above the sampler switch (μ = 10)', () => {
    for (const peak of [8, 200]) {
      // Intensity p = (x + 1)/2 = 0.25 → k ~ Poisson(peak/4), the value 2k/peak − 1 (clipped at k > peak: too rare to matter here).
      const [m, v] = stats(poissonNoise(grey(-0.5), peak, 6).data);
      const mu = peak / 4, kMean = ((m + 1) * peak) / 2, kVar = (v * peak * peak) / 4;
      expect(Math.abs(kMean - mu)).toBeLessThan(0.02 * mu);
      expect(kVar).toBeGreaterThan(0.93 * mu);
      expect(kVar).toBeLessThan(1.07 * mu);
    }
  });
});

describe('the blur kernels', () => {
  it('sum to 1, are symmetric through their centre, and are a single tap at size 0', () => {
    for (const k of [diskKernel(0.3), diskKernel(2.4), lineKernel(7, 0.6), lineKernel(3, 2)]) {
      expect(k.weights.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
      for (let i = 0; i < k.weights.length; i++) expect(k.weights[i]).toBeCloseTo(k.weights[k.weights.length - 1 - i]!, 12);
    }
    for (const k of [diskKernel(0), lineKernel(0, 1)]) expect(k.weights[(k.weights.length - 1) / 2]).toBe(1);
  });
});

describe('jpegArtifacts', () => {
  /** Through libjpeg (sharp) at the same quality, 4:2:0, back to [−1, 1]. */
  async function viaSharp(img: ImageBatch, quality: number): Promise<ImageBatch> {
    const [, c, h, w] = img.shape, hw = h * w;
    const hwc = Buffer.alloc(c * hw);
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) hwc[p * c + k] = Math.round((img.data[k * hw + p]! + 1) * 127.5);
    const jpeg = await sharp(hwc, { raw: { width: w, height: h, channels: c as 1 | 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const out = new Float32Array(c * hw);
    for (let p = 0; p < hw; p++) for (let k = 0; k < c; k++) out[k * hw + p] = data[p * info.channels + k]! / 127.5 - 1;
    return { data: out, shape: img.shape };
  }

  it('makes what libjpeg makes at the same quality, in grey and in colour', async () => {
    for (const img of [datasetBatch(mnistSplit().test, [5]), colourPicture(30, 37)])
      for (const q of [90, 50, 10]) {
        const ours = jpegArtifacts(img, q), theirs = await viaSharp(img, q);
        expect(psnr(ours, theirs, 2), `q ${q}`).toBeGreaterThan(38);
        expect(Math.abs(psnr(img, ours, 2) - psnr(img, theirs, 2)), `q ${q}`).toBeLessThan(0.3);
      }
  });
});

describe('randomDegradation', () => {
  it('applies 1…3 distinct kinds per image in the documented order, and its record repeats it exactly', () => {
    const { image, applied } = randomDegradation(digits, 9);
    expect(applied).toHaveLength(4);
    for (const [i, steps] of applied.entries()) {
      expect(steps.length).toBeGreaterThanOrEqual(1);
      expect(steps.length).toBeLessThanOrEqual(3);
      const order = steps.map((s) => DEGRADATION_KINDS.indexOf(s.kind));
      expect(order).toEqual([...new Set(order)].sort((a, b) => a - b));
      let again: ImageBatch = { data: digits.data.slice(i * 784, (i + 1) * 784), shape: [1, 1, 28, 28] };
      for (const s of steps) {
        expect(s.strength).toBeGreaterThanOrEqual(0.1);
        again = degrade(again, s.kind, s.strength, s.seed);
      }
      expect(Array.from(again.data)).toEqual(Array.from(image.data.subarray(i * 784, (i + 1) * 784)));
    }
  });

  it('uses only the kinds it is given, and varies the mixture between images', () => {
    const many: ImageBatch = { data: new Float32Array(40 * 1 * 12 * 12).fill(-0.2), shape: [40, 1, 12, 12] };
    const { applied } = randomDegradation(many, new Rng(3), { kinds: ['jpeg', 'fading', 'gaussian-noise'], maxKinds: 2 });
    const used = new Set(applied.flat().map((s) => s.kind));
    expect([...used].sort()).toEqual(['fading', 'gaussian-noise', 'jpeg']);
    expect(new Set(applied.map((s) => s.length))).toEqual(new Set([1, 2]));
    expect(() => randomDegradation(many, 1, { kinds: [] })).toThrow(/kinds = an array of 0 must be a non-empty list/);
  });

  it('maps each strength to the documented settings', () => {
    expect(degradationSettings('jpeg', 0.5)).toEqual({ quality: 55 });
    expect(degradationSettings('downsample', 1)).toEqual({ factor: 4 });
    expect(degradationSettings('gaussian-noise', 0.25).sigma).toBeCloseTo(0.1, 12);
  });
});
