import sharp from 'sharp';
import { CHARSET, glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from '../data/plates/font.js';
import { InflowError } from '../engine/errors.js';

/**
 * A small RGBA raster to draw the geomap preview and the index plot on (no drawing library exists
 * offline): rectangles, lines and text in the project's 5 × 7 bitmap font (src/data/plates/font.ts),
 * encoded to PNG by sharp. Text is drawn upper-case, since the font has capitals and digits only.
 */
export type Rgba = readonly [number, number, number, number];

/**
 * Marks the plate font lacks (it has 0–9 and A–Z only) but labels and tick values need; same 5 × 7
 * grid, '#' lit. A character in neither table is drawn as an outlined box so it is never silently lost.
 */
const MARKS: Record<string, string> = {
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  '-': '..... ..... ..... .###. ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##',
  '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
};
const BOX = '##### #...# #...# #...# #...# #...# #####';

const markBits = new Map<string, Uint8Array>();
function bitsOf(ch: string): Uint8Array {
  if (CHARSET.includes(ch)) return glyph(ch);
  let b = markBits.get(ch);
  if (!b) {
    b = Uint8Array.from((MARKS[ch] ?? BOX).replaceAll(' ', ''), (c) => (c === '#' ? 1 : 0));
    markBits.set(ch, b);
  }
  return b;
}

/** Advance of one character at scale 1: the glyph and a one-pixel gap. */
export const CHAR_ADVANCE = GLYPH_WIDTH + 1;
export const TEXT_HEIGHT = GLYPH_HEIGHT;

export class Canvas {
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Rgba = [255, 255, 255, 255]) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new InflowError(`canvas: size must be positive integers, got ${width}×${height}`);
    this.data = new Uint8Array(width * height * 4);
    this.rect(0, 0, width, height, background);
  }

  set(x: number, y: number, c: Rgba): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, (y * this.width + x) * 4);
  }

  get(x: number, y: number): Rgba {
    const o = (y * this.width + x) * 4;
    return [this.data[o]!, this.data[o + 1]!, this.data[o + 2]!, this.data[o + 3]!];
  }

  /** Fills [x, x + w) × [y, y + h), clipped to the canvas. */
  rect(x: number, y: number, w: number, h: number, c: Rgba): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.data.set(c, (yy * this.width + xx) * 4);
  }

  /** Outline of a rectangle, one pixel wide, inside [x, x + w) × [y, y + h). */
  frame(x: number, y: number, w: number, h: number, c: Rgba): void {
    this.rect(x, y, w, 1, c); this.rect(x, y + h - 1, w, 1, c);
    this.rect(x, y, 1, h, c); this.rect(x + w - 1, y, 1, h, c);
  }

  /** A straight line (Bresenham), `thick` pixels square per step; `dash` > 0 draws dash-on, dash-off. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgba, thick = 1, dash = 0): void {
    let x = Math.round(x0), y = Math.round(y0);
    const xe = Math.round(x1), ye = Math.round(y1);
    const dx = Math.abs(xe - x), dy = -Math.abs(ye - y), sx = x < xe ? 1 : -1, sy = y < ye ? 1 : -1;
    let err = dx + dy, step = 0;
    const off = Math.floor((thick - 1) / 2);
    for (;;) {
      if (dash <= 0 || Math.floor(step / dash) % 2 === 0) this.rect(x - off, y - off, thick, thick, c);
      if (x === xe && y === ye) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x += sx; }
      if (e2 <= dx) { err += dx; y += sy; }
      step++;
    }
  }

  /** Draws `text` with its top-left at (x, y), each font pixel `scale` × `scale`; returns the width drawn. */
  text(x: number, y: number, text: string, c: Rgba, scale = 1): number {
    let cx = Math.round(x);
    for (const ch of text.toUpperCase()) {
      const bits = bitsOf(ch);
      for (let r = 0; r < GLYPH_HEIGHT; r++)
        for (let q = 0; q < GLYPH_WIDTH; q++)
          if (bits[r * GLYPH_WIDTH + q]) this.rect(cx + q * scale, Math.round(y) + r * scale, scale, scale, c);
      cx += CHAR_ADVANCE * scale;
    }
    return textWidth(text, scale);
  }

  async png(): Promise<Uint8Array> {
    const buf = await sharp(this.data, { raw: { width: this.width, height: this.height, channels: 4 } }).png({ compressionLevel: 9 }).toBuffer();
    return new Uint8Array(buf);
  }
}

/** Width of `text` drawn at `scale` (no trailing gap). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * CHAR_ADVANCE - 1) * scale;
}
