import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Canvas, textWidth } from '../../src/geo/canvas.js';
import { LABEL_NODATA } from '../../src/geo/geotiff.js';
import { CHOSEN, niceTicks, renderIndexPlot, tickLabel } from '../../src/geo/index-plot.js';
import { labelColor, NODATA_GREY, previewPng, renderPreview } from '../../src/geo/preview.js';

/** A 12 × 10 map: label = column / 4 (0, 1, 2), a 2 × 2 no-data block at the top left. */
function map(): Uint8Array {
  const m = new Uint8Array(12 * 10);
  for (let y = 0; y < 10; y++) for (let x = 0; x < 12; x++) m[y * 12 + x] = x < 2 && y < 2 ? LABEL_NODATA : Math.floor(x / 4);
  return m;
}

const inkIn = (c: Canvas, x0: number, y0: number, w: number, h: number): number => {
  let ink = 0;
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (c.get(x, y)[0] < 100) ink++;
  return ink;
};

describe('geomap preview', () => {
  it('paints every map pixel its label colour, no-data transparent, enlarged by whole pixels', () => {
    const m = map();
    const p = renderPreview(m, 12, 10, { scale: 3 });
    expect(p.scale).toBe(3);
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 12; x++)
        for (const [dx, dy] of [[0, 0], [2, 2]]) {
          const got = p.canvas.get(p.mapX + x * 3 + dx!, p.mapY + y * 3 + dy!);
          const l = m[y * 12 + x]!;
          expect(got).toEqual(l === LABEL_NODATA ? [0, 0, 0, 0] : [...labelColor(l)]);
        }
  });

  it('grey no-data when asked; labels get distinct colours', () => {
    const p = renderPreview(map(), 12, 10, { scale: 2, noData: 'grey' });
    expect(p.canvas.get(p.mapX, p.mapY)).toEqual([...NODATA_GREY]);
    const colours = new Set(Array.from({ length: 255 }, (_, l) => labelColor(l).join(',')));
    expect(colours.size).toBe(255);
  });

  it('the legend lists each present label with its swatch colour, share and count, then no-data', () => {
    const p = renderPreview(map(), 12, 10, { names: ['granite', 'shale', 'basalt'] });
    expect(p.legend.map((e) => e.label)).toEqual([0, 1, 2, LABEL_NODATA]);
    // 120 pixels, 4 no-data: label 0 has 40 − 4 = 36 of 116 mapped pixels.
    expect(p.legend[0]).toMatchObject({ pixels: 36, text: 'granite  31.0%  (36 px)' });
    expect(p.legend[1]!.pixels).toBe(40);
    expect(p.legend[3]).toMatchObject({ pixels: 4, share: null, text: 'no data  (4 px)' });
    for (const e of p.legend.slice(0, 3)) {
      const s = e.swatch, mid = p.canvas.get(s.x + (s.size >> 1), s.y + (s.size >> 1));
      expect(mid).toEqual([...labelColor(e.label)]);
      // A dark frame around the swatch, and ink where the text is drawn (none in the empty space after it).
      expect(p.canvas.get(s.x, s.y)[0]).toBeLessThan(50);
      expect(inkIn(p.canvas, e.textX, s.y, textWidth(e.text, 2), s.size)).toBeGreaterThan(50);
      expect(inkIn(p.canvas, e.textX + textWidth(e.text, 2) + 2, s.y, p.canvas.width - e.textX - textWidth(e.text, 2) - 2, s.size)).toBe(0);
    }
  });

  it('encodes a PNG of the drawn size with an alpha channel', async () => {
    const p = renderPreview(map(), 12, 10);
    const meta = await sharp(await previewPng(map(), 12, 10)).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', p.canvas.width, p.canvas.height, 4]);
  });

  it('refuses a map of the wrong size and labels outside the palette', () => {
    expect(() => renderPreview(new Uint8Array(10), 4, 4)).toThrow(/10 labels do not fill a 4×4 map/);
    expect(() => labelColor(255)).toThrow(/outside 0…254/);
  });
});

describe('index plot', () => {
  const rows = [2, 3, 4, 5, 6].map((k) => ({ k, wcss: 1000 / k, silhouette: 0.5 - 0.01 * k, calinskiHarabasz: 300 + k, daviesBouldin: NaN }));

  it('marks the chosen k in every panel and skips non-finite values', () => {
    const { canvas, panels } = renderIndexPlot(rows, 4);
    expect(panels).toHaveLength(4);
    for (const p of panels.slice(0, 3)) {
      const r = rows.find((q) => q.k === 4)!;
      expect(canvas.get(Math.round(p.xOf(4)), Math.round(p.yOf(r[p.key])))).toEqual([...CHOSEN]);
      expect(canvas.get(Math.round(p.xOf(3)), Math.round(p.yOf(rows[1]![p.key])))).not.toEqual([...CHOSEN]);
      // The y axis runs up: a larger value sits higher.
      expect(p.yOf(2)).toBeLessThan(p.yOf(1));
    }
    // Davies–Bouldin is NaN everywhere: its panel has the dashed k line but no markers.
    const db = panels[3]!;
    let chosen = 0;
    for (let y = db.y0; y < db.y1; y++) if (canvas.get(Math.round(db.xOf(4)), y).join() === CHOSEN.join()) chosen++;
    expect(chosen).toBeGreaterThan(0);
    expect(chosen).toBeLessThan(db.y1 - db.y0);
  });

  it('ticks are round and cover the range; labels are short', () => {
    expect(niceTicks(0.23, 0.81)).toEqual([0.4, 0.6, 0.8]);
    expect(niceTicks(0.23, 0.51)).toEqual([0.3, 0.4, 0.5]);
    expect(niceTicks(1200, 41000)).toEqual([10000, 20000, 30000, 40000]);
    expect(tickLabel(0.30000000000000004, 0.1)).toBe('0.3');
    expect(tickLabel(2.5e6, 5e5)).toBe('2.5E6');
    expect(() => renderIndexPlot([], null)).toThrow(/no rows/);
  });
});
