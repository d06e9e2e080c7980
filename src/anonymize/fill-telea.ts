/**
 * Fast-marching inpainting in the spirit of Telea (2004), written from the paper's idea
 * (docs/anonymize.md §3): the hole is filled from its border inwards, in order of distance T to
 * the border (an eikonal solution grown with a heap), each new pixel a weighted mean of the known
 * pixels within `radius`, extrapolated to it by their image gradient; the weights favour close
 * neighbours, neighbours along the marching direction and neighbours on the same level set of T.
 */
import { forEachHolePixel, toByte, type Canvas } from './canvas.js';
import type { Region } from './mask.js';
import { MinHeap } from './min-heap.js';

const KNOWN = 0, BAND = 1, INSIDE = 2;

/** Value given to a hole that has no known pixel at all (the mask covers the whole image): mid grey. */
const NOTHING_KNOWN = 128;

/** The hole of `g` filled by fast marching with neighbourhood `radius` (pixels). */
export function fillTelea(img: Canvas, g: Region, radius: number): void {
  const m = radius + 2;
  const cx0 = Math.max(0, g.x0 - m), cy0 = Math.max(0, g.y0 - m), cx1 = Math.min(img.width, g.x1 + m), cy1 = Math.min(img.height, g.y1 + m);
  const cw = cx1 - cx0, chh = cy1 - cy0, n = cw * chh, ch = img.channels, gw = g.x1 - g.x0;
  const flag = new Uint8Array(n), T = new Float64Array(n), I = new Float64Array(3 * n);
  for (let y = 0; y < chh; y++)
    for (let x = 0; x < cw; x++) {
      const k = y * cw + x, s = ((cy0 + y) * img.width + cx0 + x) * ch;
      for (let c = 0; c < 3; c++) I[3 * k + c] = img.data[s + c]!;
      const gx = cx0 + x - g.x0, gy = cy0 + y - g.y0;
      if (gx >= 0 && gy >= 0 && gx < gw && gy < g.y1 - g.y0 && g.hole[gy * gw + gx]) {
        flag[k] = INSIDE;
        T[k] = Infinity;
      }
    }
  // Neighbour index in the crop, or −1 beyond it.
  const at = (x: number, y: number): number => (x >= 0 && y >= 0 && x < cw && y < chh ? y * cw + x : -1);
  const heap = new MinHeap();
  for (let k = 0; k < n; k++) {
    if (flag[k] !== KNOWN) continue;
    const x = k % cw, y = (k - x) / cw;
    for (const q of [at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1)])
      if (q >= 0 && flag[q] === INSIDE) {
        flag[k] = BAND;
        heap.push(k, 0);
        break;
      }
  }
  const offX: number[] = [], offY: number[] = [];
  for (let dy = -radius; dy <= radius; dy++)
    for (let dx = -radius; dx <= radius; dx++) if ((dx || dy) && dx * dx + dy * dy <= radius * radius) { offX.push(dx); offY.push(dy); }
  const taps = offX.length, invD = Float64Array.from(offX, (dx, o) => 1 / Math.hypot(dx, offY[o]!));
  const has = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < cw && y < chh && flag[y * cw + x] !== INSIDE;
  const tOf = (x: number, y: number): number => (has(x, y) ? T[y * cw + x]! : Infinity);
  // 1 where the pixel was known before the march began (outside the hole).
  const given = Uint8Array.from(flag, (f) => (f === INSIDE ? 0 : 1));
  const orig = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < cw && y < chh && given[y * cw + x] === 1;

  /** T from one horizontal and one vertical neighbour: the upwind solution of |∇T| = 1. */
  const solve = (ta: number, tb: number): number => {
    if (ta === Infinity || tb === Infinity) return Math.min(ta, tb) + 1;
    const d = ta - tb;
    return Math.abs(d) >= 1 ? Math.min(ta, tb) + 1 : (ta + tb + Math.sqrt(2 - d * d)) / 2;
  };

  /** A central difference where both neighbours are known, one-sided where one is, else 0. */
  const diff = (l: boolean, h: boolean, vl: number, v: number, vh: number): number => (l && h ? (vh - vl) / 2 : h ? vh - v : l ? v - vl : 0);

  const inpaintAt = (q: number, qx: number, qy: number): void => {
    const tq = T[q]!;
    let nx = diff(has(qx - 1, qy), has(qx + 1, qy), tOf(qx - 1, qy), tq, tOf(qx + 1, qy));
    let ny = diff(has(qx, qy - 1), has(qx, qy + 1), tOf(qx, qy - 1), tq, tOf(qx, qy + 1));
    const len = Math.hypot(nx, ny);
    if (len > 0) { nx /= len; ny /= len; }
    let a0 = 0, a1 = 0, a2 = 0, sum = 0;
    for (let o = 0; o < taps; o++) {
      const kx = qx + offX[o]!, ky = qy + offY[o]!;
      if (!has(kx, ky)) continue;
      const k = ky * cw + kx;
      // r = q − k: the known pixel's value is carried to q along r by its gradient.
      const rx = -offX[o]!, ry = -offY[o]!;
      const dir = len > 0 ? Math.max(1e-6, Math.abs(rx * nx + ry * ny) * invD[o]!) : 1;
      const w = dir * invD[o]! * invD[o]! / (1 + Math.abs(T[k]! - tq));
      // The gradient only of pixels known from the start, and from such pixels: taken on filled
      // pixels, the first-order term feeds on itself (a central difference cannot see a
      // checkerboard, which then grows into stripes; docs/anonymize.md §3).
      const fromGiven = given[k] === 1;
      const l = fromGiven && orig(kx - 1, ky), h = fromGiven && orig(kx + 1, ky), u = fromGiven && orig(kx, ky - 1), d = fromGiven && orig(kx, ky + 1);
      const i = 3 * k, il = i - 3, ih = i + 3, iu = i - 3 * cw, id = i + 3 * cw;
      a0 += w * (I[i]! + diff(l, h, I[il]!, I[i]!, I[ih]!) * rx + diff(u, d, I[iu]!, I[i]!, I[id]!) * ry);
      a1 += w * (I[i + 1]! + diff(l, h, I[il + 1]!, I[i + 1]!, I[ih + 1]!) * rx + diff(u, d, I[iu + 1]!, I[i + 1]!, I[id + 1]!) * ry);
      a2 += w * (I[i + 2]! + diff(l, h, I[il + 2]!, I[i + 2]!, I[ih + 2]!) * rx + diff(u, d, I[iu + 2]!, I[i + 2]!, I[id + 2]!) * ry);
      sum += w;
    }
    const clamp = (v: number) => Math.min(255, Math.max(0, v));
    I[3 * q] = clamp(a0 / sum);
    I[3 * q + 1] = clamp(a1 / sum);
    I[3 * q + 2] = clamp(a2 / sum);
  };

  while (heap.size) {
    const k = heap.pop();
    flag[k] = KNOWN;
    const x = k % cw, y = (k - x) / cw;
    for (const [qx, qy] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
      const q = at(qx, qy);
      if (q < 0 || flag[q] !== INSIDE) continue;
      const l = tOf(qx - 1, qy), r = tOf(qx + 1, qy), u = tOf(qx, qy - 1), d = tOf(qx, qy + 1);
      T[q] = Math.min(solve(l, u), solve(r, u), solve(l, d), solve(r, d));
      inpaintAt(q, qx, qy);
      flag[q] = BAND;
      heap.push(q, T[q]!);
    }
  }
  forEachHolePixel(img, g, (x, y, i) => {
    const k = (y - cy0) * cw + x - cx0;
    // A hole pixel the march never reached has no known pixel in its crop at all.
    for (let c = 0; c < 3; c++) img.data[i * ch + c] = flag[k] === INSIDE ? NOTHING_KNOWN : toByte(I[3 * k + c]!);
  });
}
