/**
 * A drawing as the model expects a digit: prepared the way MNIST's digits were (LeCun et al.). The
 * ink's bounding box is scaled to fit a 20 × 20 box, aspect ratio kept, with area averaging (the
 * anti-aliasing that gives MNIST its grey edges), then placed in the 28 × 28 field so that its centre
 * of mass lies at the field's centre. The bundled flow has only seen digits so framed: the pad
 * shrunk as a whole read an empty pad as a confident "1" and a large 7 as a 1 (issue 12).
 * Pure (no DOM), so tests/web/pad-input.test.ts checks it in Node.
 */

export interface Framing {
  /** Output size (default 28 × 28). */
  height?: number;
  width?: number;
  /** The longer side of the ink's bounding box after scaling (default 20). */
  box?: number;
}

/**
 * `gray`: height × width intensities, row-major, 0 = background, 255 = full ink. Returns the framed
 * digit as intensities in [0, 255] (height × width of `framing`), or null when there is no ink.
 */
export function frameDigit(gray: ArrayLike<number>, width: number, height: number, framing: Framing = {}): Float32Array | null {
  const H = framing.height ?? 28, W = framing.width ?? 28, box = framing.box ?? 20;
  if (gray.length !== width * height) throw new Error(`frameDigit: ${gray.length} values for a ${width} × ${height} image`);
  if (box > Math.min(H, W)) throw new Error(`frameDigit: a ${box}-pixel box does not fit ${W} × ${H}`);
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x]! <= 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = box / Math.max(bw, bh);
  // The scaled ink covers sw × sh pixels; its right / bottom pixel may be partly covered.
  const sw = Math.ceil(bw * scale - 1e-9), sh = Math.ceil(bh * scale - 1e-9);
  const wx = areaWeights(x0, bw, sw, scale), wy = areaWeights(y0, bh, sh, scale);
  const small = new Float32Array(sw * sh);
  for (let j = 0; j < sh; j++) {
    for (const [sy, ay] of wy[j]!) {
      for (let i = 0; i < sw; i++) {
        let acc = 0;
        for (const [sx, ax] of wx[i]!) acc += ax * gray[sy * width + sx]!;
        small[j * sw + i]! += ay * acc;
      }
    }
  }
  // Centre of mass, pixel i spanning [i, i + 1): the field's centre is (W / 2, H / 2).
  let mass = 0, mx = 0, my = 0;
  for (let j = 0; j < sh; j++) {
    for (let i = 0; i < sw; i++) {
      const v = small[j * sw + i]!;
      mass += v;
      mx += v * (i + 0.5);
      my += v * (j + 0.5);
    }
  }
  // A whole-pixel shift, as MNIST did: a fractional one would blur the digit and widen its box.
  // Clamped so that a lopsided drawing is never cut off at the border.
  const ox = clamp(Math.round(W / 2 - mx / mass), 0, W - sw), oy = clamp(Math.round(H / 2 - my / mass), 0, H - sh);
  const out = new Float32Array(H * W);
  for (let j = 0; j < sh; j++)
    for (let i = 0; i < sw; i++) out[(oy + j) * W + ox + i] = Math.min(255, small[j * sw + i]!);
  return out;
}

/**
 * For each of `n` output pixels along one axis, the source pixels it overlaps and each one's share:
 * output pixel k covers source [start + k / scale, start + (k + 1) / scale), cut at the ink's end;
 * shares are overlap × scale, so a fully covered output pixel averages what it covers.
 */
function areaWeights(start: number, length: number, n: number, scale: number): Array<Array<[number, number]>> {
  const weights: Array<Array<[number, number]>> = [];
  for (let k = 0; k < n; k++) {
    const a = k / scale, b = Math.min(length, (k + 1) / scale);
    const row: Array<[number, number]> = [];
    for (let s = Math.floor(a); s < b; s++) {
      const overlap = Math.min(b, s + 1) - Math.max(a, s);
      if (overlap > 0) row.push([start + s, overlap * scale]);
    }
    weights.push(row);
  }
  return weights;
}

const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
