/**
 * Gaussian blur of a region's hole, computed on the host as three box blurs per axis
 * (docs/anonymize.md §2.1). The σ wanted grows with the face (a tenth of it or more), so a direct
 * kernel would cost O(σ) per pixel; running box sums cost O(1) whatever σ is. The engine's conv2d
 * would need the crop uploaded and a kernel of 6σ + 1 taps per axis, and would make the bytes
 * depend on the backend; this stays exact and identical everywhere.
 */
import { forEachHolePixel, toByte, type Canvas } from './canvas.js';
import type { Region } from './mask.js';

/**
 * Widths of `n` box filters (odd) whose repeated convolution has variance closest to σ²: m boxes
 * of width wl and n − m of wl + 2, m chosen so that Σ (w² − 1)/12 ≈ σ² (a box of odd width w has
 * variance (w² − 1)/12).
 */
export function gaussianBoxes(sigma: number, n = 3): number[] {
  let wl = Math.floor(Math.sqrt((12 * sigma * sigma) / n + 1));
  if (wl % 2 === 0) wl--;
  const m = Math.round((12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4));
  return Array.from({ length: n }, (_, i) => (i < m ? wl : wl + 2));
}

/** out[i] = mean of line[clamp(i − r … i + r)]: a box of width 2r + 1, the line's end values repeated. */
function boxLine(line: Float64Array, out: Float64Array, n: number, r: number): void {
  const last = n - 1, inv = 1 / (2 * r + 1);
  let acc = 0;
  for (let k = -r; k <= r; k++) acc += line[Math.min(last, Math.max(0, k))]!;
  for (let i = 0; i < n; i++) {
    out[i] = acc * inv;
    acc += line[Math.min(last, i + r + 1)]! - line[Math.max(0, i - r)]!;
  }
}

/**
 * The hole of `g` replaced by the image blurred with a Gaussian of σ pixels (approximated by three
 * boxes), pixels beyond the image's edge taken as the nearest edge pixel. Only a crop of the
 * region plus the blur's reach is held in memory.
 */
export function fillBlur(img: Canvas, g: Region, sigma: number): void {
  const radii = gaussianBoxes(sigma).map((w) => (w - 1) / 2);
  const M = radii.reduce((a, b) => a + b, 0);
  // With the region's M-pixel margin the crop's own ends never reach the region through the three
  // passes. One channel at a time, in float32: ≈ 4 bytes per crop pixel however large σ is.
  const cw = g.x1 - g.x0 + 2 * M, chh = g.y1 - g.y0 + 2 * M, ch = img.channels;
  const plane = new Float32Array(cw * chh);
  const line = new Float64Array(Math.max(cw, chh)), out = new Float64Array(line.length);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < chh; y++) {
      const sy = Math.min(img.height - 1, Math.max(0, g.y0 - M + y));
      for (let x = 0; x < cw; x++) plane[y * cw + x] = img.data[(sy * img.width + Math.min(img.width - 1, Math.max(0, g.x0 - M + x))) * ch + c]!;
    }
    for (let y = 0; y < chh; y++) {
      for (let x = 0; x < cw; x++) line[x] = plane[y * cw + x]!;
      for (const r of radii) {
        boxLine(line, out, cw, r);
        line.set(out.subarray(0, cw));
      }
      for (let x = 0; x < cw; x++) plane[y * cw + x] = line[x]!;
    }
    // Only the region's columns need the vertical passes.
    for (let x = M; x < cw - M; x++) {
      for (let y = 0; y < chh; y++) line[y] = plane[y * cw + x]!;
      for (const r of radii) {
        boxLine(line, out, chh, r);
        line.set(out.subarray(0, chh));
      }
      for (let y = 0; y < chh; y++) plane[y * cw + x] = line[y]!;
    }
    forEachHolePixel(img, g, (x, y, i) => {
      img.data[i * ch + c] = toByte(plane[(y - g.y0 + M) * cw + x - g.x0 + M]!);
    });
  }
}
