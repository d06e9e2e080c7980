import type { ImageBatch } from '../batch.js';
import { checkInput, checkNumber } from './check.js';

/*
 * Baseline JPEG's lossy path, run in memory: 8-bit samples, JFIF YCbCr, 4:2:0 chroma, 8 × 8 DCT,
 * quantisation by the IJG tables scaled to `quality`, and the decoder's way back (triangle-filter
 * chroma upsampling, as libjpeg's default "fancy" upsampling). Entropy coding is lossless and is
 * skipped: the artefacts are all made here. Pure TypeScript, so it runs in browsers too; the
 * tests compare it with libjpeg through sharp (docs/degradations.md §4.8).
 */

/** The IJG (JPEG standard Annex K) luminance and chrominance tables at quality 50, row-major. */
const LUMA_TABLE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_TABLE = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...Array<number>(32).fill(99),
];

/** libjpeg's jpeg_quality_scaling and jpeg_add_quant_table (baseline: entries 1…255). */
export function quantTable(base: readonly number[], quality: number): Float64Array {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return Float64Array.from(base, (b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
}

/** The orthonormal 8-point DCT-II matrix: D[u][x] = c(u)/2 · cos((2x + 1)uπ/16), c(0) = 1/√2. */
const DCT = (() => {
  const m = new Float64Array(64);
  for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) m[u * 8 + x] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return m;
})();

const round8 = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));

/**
 * One plane (8-bit values, h × w) through DCT, quantisation and the inverse DCT, in place. The
 * plane is read in 8 × 8 blocks whose pixels beyond the edge repeat the edge, as the encoder pads.
 */
function codePlane(plane: Float64Array, h: number, w: number, table: Float64Array): void {
  const block = new Float64Array(64), tmp = new Float64Array(64), coef = new Float64Array(64);
  for (let by = 0; by < h; by += 8)
    for (let bx = 0; bx < w; bx += 8) {
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[Math.min(h - 1, by + y) * w + Math.min(w - 1, bx + x)]! - 128;
      // F = D · B · Dᵀ
      for (let u = 0; u < 8; u++)
        for (let x = 0; x < 8; x++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += DCT[u * 8 + y]! * block[y * 8 + x]!;
          tmp[u * 8 + x] = s;
        }
      for (let u = 0; u < 8; u++)
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += tmp[u * 8 + x]! * DCT[v * 8 + x]!;
          const q = table[u * 8 + v]!;
          // Rounded to the nearest step, halves away from zero, as libjpeg's quantiser.
          coef[u * 8 + v] = Math.sign(s) * Math.floor(Math.abs(s) / q + 0.5) * q;
        }
      // B = Dᵀ · F · D
      for (let y = 0; y < 8; y++)
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let u = 0; u < 8; u++) s += DCT[u * 8 + y]! * coef[u * 8 + v]!;
          tmp[y * 8 + v] = s;
        }
      for (let y = 0; y < 8 && by + y < h; y++)
        for (let x = 0; x < 8 && bx + x < w; x++) {
          let s = 0;
          for (let v = 0; v < 8; v++) s += tmp[y * 8 + v]! * DCT[v * 8 + x]!;
          plane[(by + y) * w + bx + x] = round8(s + 128);
        }
    }
}

/** 2 × 2 means of an even-sized plane, rounded to 8 bits, as the encoder's h2v2 downsampling. */
function halve(plane: Float64Array, h: number, w: number): Float64Array {
  const hh = h / 2, hw = w / 2, out = new Float64Array(hh * hw);
  for (let y = 0; y < hh; y++)
    for (let x = 0; x < hw; x++) {
      const o = 2 * y * w + 2 * x;
      // libjpeg's rounding bias alternates 1, 2 along a row so that halves do not all round one way.
      out[y * hw + x] = Math.floor((plane[o]! + plane[o + 1]! + plane[o + w]! + plane[o + w + 1]! + 1 + (x & 1)) / 4);
    }
  return out;
}

/**
 * Triangle-filter 2× upsampling of the chroma samples that belong to the image (hh × hw of a
 * plane `stride` wide): ¾ of the nearest sample and ¼ of the next along each axis (9:3:3:1), the
 * image's last sample repeated beyond it.
 */
function double(plane: Float64Array, stride: number, hh: number, hw: number, h: number, w: number): Float64Array {
  const out = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    const cy = y >> 1, ny = Math.min(hh - 1, Math.max(0, y & 1 ? cy + 1 : cy - 1));
    for (let x = 0; x < w; x++) {
      const cx = x >> 1, nx = Math.min(hw - 1, Math.max(0, x & 1 ? cx + 1 : cx - 1));
      out[y * w + x] = (9 * plane[cy * stride + cx]! + 3 * plane[ny * stride + cx]! + 3 * plane[cy * stride + nx]! + plane[ny * stride + nx]!) / 16;
    }
  }
  return out;
}

/**
 * JPEG compression artefacts at `quality` 1…100 (libjpeg's scale; 75 is its default). Three-channel
 * images are coded as colour with 4:2:0 chroma, any other channel count channel by channel as grey.
 * The values are first rounded to 8 bits, so even quality 100 is not quite the identity.
 */
export function jpegArtifacts(img: ImageBatch, quality: number): ImageBatch {
  checkInput('jpegArtifacts', img);
  checkNumber('jpegArtifacts', 'quality', quality, 1, 100);
  const luma = quantTable(LUMA_TABLE, quality), chroma = quantTable(CHROMA_TABLE, quality);
  const [n, c, h, w] = img.shape, size = h * w;
  const out = new Float32Array(img.data.length);
  const byte = (v: number): number => round8((v + 1) * 127.5);
  for (let i = 0; i < n; i++) {
    const base = i * c * size;
    if (c !== 3) {
      for (let ch = 0; ch < c; ch++) {
        const plane = Float64Array.from(img.data.subarray(base + ch * size, base + (ch + 1) * size), byte);
        codePlane(plane, h, w, luma);
        for (let p = 0; p < size; p++) out[base + ch * size + p] = plane[p]! / 127.5 - 1;
      }
      continue;
    }
    // The encoder codes whole 16 × 16 macroblocks: the image is padded to them by repeating its edge.
    const H = Math.ceil(h / 16) * 16, W = Math.ceil(w / 16) * 16;
    const Y = new Float64Array(H * W), Cb = new Float64Array(H * W), Cr = new Float64Array(H * W);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const p = Math.min(h - 1, y) * w + Math.min(w - 1, x), o = y * W + x;
        const r = byte(img.data[base + p]!), g = byte(img.data[base + size + p]!), b = byte(img.data[base + 2 * size + p]!);
        Y[o] = round8(0.299 * r + 0.587 * g + 0.114 * b);
        Cb[o] = round8(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
        Cr[o] = round8(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
      }
    const cb = halve(Cb, H, W), cr = halve(Cr, H, W);
    codePlane(Y, H, W, luma);
    codePlane(cb, H / 2, W / 2, chroma);
    codePlane(cr, H / 2, W / 2, chroma);
    const hh = Math.ceil(h / 2), hw = Math.ceil(w / 2);
    const cbUp = double(cb, W / 2, hh, hw, h, w), crUp = double(cr, W / 2, hh, hw, h, w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const p = y * w + x, l = Y[y * W + x]!, u = cbUp[p]! - 128, v = crUp[p]! - 128;
        out[base + p] = round8(l + 1.402 * v) / 127.5 - 1;
        out[base + size + p] = round8(l - 0.344136 * u - 0.714136 * v) / 127.5 - 1;
        out[base + 2 * size + p] = round8(l + 1.772 * u) / 127.5 - 1;
      }
  }
  return { data: out, shape: img.shape };
}
