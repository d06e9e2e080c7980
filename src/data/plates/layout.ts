import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from './font.js';
import type { PlateGroups } from './plate-text.js';

/**
 * Plate geometry in plate units (one font pixel wide; docs/plates.md §1). Font pixels are taller
 * than wide, as plate lettering is narrow and tall; a border line runs inside the edge.
 */
export const PLATE_UNITS = {
  /** Height of one font pixel (its width is 1). */
  pixelHeight: 1.35,
  padX: 3,
  padY: 2.2,
  charGap: 1,
  groupGap: 3.5,
  borderInset: 0.7,
  borderWidth: 0.5,
} as const;

/** A rectangle in plate units: left, top, width, height. */
export interface Cell { x: number; y: number; width: number; height: number }

export interface PlateLayout {
  groups: PlateGroups;
  /** The characters without spaces, one per cell. */
  chars: string;
  width: number;
  height: number;
  /** Each character's glyph rectangle (5 × 7 font pixels). */
  cells: Cell[];
}

/** Where each character of a registration number goes on the plate. */
export function plateLayout(groups: PlateGroups): PlateLayout {
  const u = PLATE_UNITS, gh = GLYPH_HEIGHT * u.pixelHeight;
  const cells: Cell[] = [];
  let x = u.padX;
  groups.forEach((g, gi) => {
    if (gi > 0) x += u.groupGap - u.charGap;
    for (let i = 0; i < g.length; i++) {
      cells.push({ x, y: u.padY, width: GLYPH_WIDTH, height: gh });
      x += GLYPH_WIDTH + u.charGap;
    }
  });
  return { groups: [...groups], chars: groups.join(''), width: x - u.charGap + u.padX, height: gh + 2 * u.padY, cells };
}

/**
 * Whether the point (px, py) of the plate is ink: a lit font pixel of a character, or the border
 * line. The caller keeps the point inside [0, width] × [0, height].
 */
export function isInk(layout: PlateLayout, px: number, py: number): boolean {
  const u = PLATE_UNITS;
  const dx = Math.min(px, layout.width - px), dy = Math.min(py, layout.height - py);
  const edge = Math.min(dx, dy);
  if (edge >= u.borderInset && edge < u.borderInset + u.borderWidth) return true;
  const top = u.padY, bottom = top + GLYPH_HEIGHT * u.pixelHeight;
  if (py < top || py >= bottom) return false;
  for (let i = 0; i < layout.cells.length; i++) {
    const c = layout.cells[i]!;
    if (px < c.x) return false;
    if (px >= c.x + c.width) continue;
    const col = Math.floor(px - c.x), row = Math.floor((py - top) / u.pixelHeight);
    return glyph(layout.chars[i]!)[row * GLYPH_WIDTH + col] === 1;
  }
  return false;
}
