/**
 * Masks as in the Private IDD work (docs/anonymize.md §1): each box is shrunk by a fraction of its
 * size on every side (10 %: the central 80 % × 80 % is filled), optionally grown by a number of
 * pixels, and clipped to the image. Overlapping or touching rectangles are grouped into regions so
 * that a fill sees every neighbouring hole pixel as a hole, never as a known pixel.
 */
import { describeValue, fail } from '../engine/errors.js';
import type { Box } from '../models/detect/box.js';

/** Whole-pixel bounds: columns x0 … x1 − 1, rows y0 … y1 − 1. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** One connected group of mask rectangles: its bounding rectangle and which of its pixels are filled. */
export interface Region extends Rect {
  /** (x1 − x0) · (y1 − y0) flags, row by row: 1 = fill. */
  hole: Uint8Array;
  rects: Rect[];
}

/** A 1-channel mask at the image's size: 255 = filled, 0 = kept. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface MaskOptions {
  /** Fraction of the box's width (height) removed from its left and right (top and bottom), in [0, 0.5) (default 0.1). */
  shrink?: number;
  /** Pixels added on every side after shrinking, an integer ≥ 0 (default 0): a square dilation of the rectangle. */
  dilate?: number;
}

/** Largest --dilate: more than any photo's side is meaningless and only risks huge loops. */
export const MAX_DILATE = 10_000;

export function checkMaskOptions(op: string, opts: MaskOptions): Required<MaskOptions> {
  const shrink = opts.shrink ?? 0.1, dilate = opts.dilate ?? 0;
  if (typeof shrink !== 'number' || !(shrink >= 0 && shrink < 0.5)) fail(op, `shrink = ${describeValue(shrink)} must be a number from 0 up to (not including) 0.5`);
  if (typeof dilate !== 'number' || !Number.isInteger(dilate) || dilate < 0 || dilate > MAX_DILATE)
    fail(op, `dilate = ${describeValue(dilate)} must be an integer from 0 to ${MAX_DILATE} (pixels)`);
  return { shrink, dilate };
}

/**
 * The mask rectangle of one box in a width × height image, or null when nothing of it is inside:
 * the box's edges rounded to whole pixels, then ⌊side · shrink⌋ pixels taken off each side (the
 * Python original's int(range · 0.10)), then `dilate` added on each side, then clipped.
 */
export function maskRect(box: Box, width: number, height: number, opts: MaskOptions = {}): Rect | null {
  const { shrink, dilate } = checkMaskOptions('maskRect', opts);
  if (![box?.x, box?.y, box?.width, box?.height].every((v) => typeof v === 'number' && Number.isFinite(v)))
    fail('maskRect', `box ${describeValue(box)} must have finite x, y, width and height`);
  const left = Math.round(box.x), top = Math.round(box.y), right = Math.round(box.x + box.width), bottom = Math.round(box.y + box.height);
  const dx = Math.floor((right - left) * shrink), dy = Math.floor((bottom - top) * shrink);
  const r = {
    x0: Math.max(0, left + dx - dilate), y0: Math.max(0, top + dy - dilate),
    x1: Math.min(width, right - dx + dilate), y1: Math.min(height, bottom - dy + dilate),
  };
  return r.x1 > r.x0 && r.y1 > r.y0 ? r : null;
}

/** Rectangles that overlap, share an edge or a corner (a hole pixel of one is an 8-neighbour of the other's). */
const touching = (a: Rect, b: Rect): boolean => a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;

/** Rectangles grouped into connected regions (union–find), each with its bounding rectangle and hole flags. */
export function groupRegions(rects: readonly Rect[]): Region[] {
  const parent = rects.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  for (let i = 0; i < rects.length; i++)
    for (let j = i + 1; j < rects.length; j++) if (touching(rects[i]!, rects[j]!)) parent[root(i)] = root(j);
  const groups = new Map<number, Rect[]>();
  rects.forEach((r, i) => {
    const k = root(i);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  });
  return [...groups.values()].map((members) => {
    const x0 = Math.min(...members.map((r) => r.x0)), y0 = Math.min(...members.map((r) => r.y0));
    const x1 = Math.max(...members.map((r) => r.x1)), y1 = Math.max(...members.map((r) => r.y1));
    const w = x1 - x0, hole = new Uint8Array(w * (y1 - y0));
    for (const r of members) for (let y = r.y0; y < r.y1; y++) hole.fill(1, (y - y0) * w + r.x0 - x0, (y - y0) * w + r.x1 - x0);
    return { x0, y0, x1, y1, hole, rects: members };
  });
}

/** The mask of `boxes` in a width × height image and its regions (docs/anonymize.md §1). */
export function buildMask(boxes: readonly Box[], width: number, height: number, opts: MaskOptions = {}): { mask: Mask; regions: Region[] } {
  const rects = boxes.map((b) => maskRect(b, width, height, opts)).filter((r): r is Rect => r !== null);
  const regions = groupRegions(rects);
  const data = new Uint8Array(width * height);
  for (const g of regions) paintRegion(data, width, g, 255);
  return { mask: { width, height, data }, regions };
}

/** Writes `value` into `data` (one byte per pixel of a width-wide image) at the region's hole pixels. */
export function paintRegion(data: Uint8Array, width: number, g: Region, value: number): void {
  const w = g.x1 - g.x0;
  for (let y = g.y0; y < g.y1; y++)
    for (let x = g.x0; x < g.x1; x++) if (g.hole[(y - g.y0) * w + x - g.x0]) data[y * width + x] = value;
}
