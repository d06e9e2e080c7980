import { describe, expect, it } from 'vitest';
import { plateScenes, PLATE_SPLITS } from '../../src/data/plates/dataset.js';
import { CHARSET, glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from '../../src/data/plates/font.js';
import { homography, project, rectQuad, type Quad } from '../../src/data/plates/homography.js';
import { isInk, plateLayout, PLATE_UNITS } from '../../src/data/plates/layout.js';
import { positionKinds, randomPlateGroups } from '../../src/data/plates/plate-text.js';
import { plateScene } from '../../src/data/plates/scene.js';
import { Rng } from '../../src/data/rng.js';

const S = 96;

describe('synthetic licence plates', () => {
  it('the font has 36 distinct 5×7 glyphs and refuses other characters in one line', () => {
    const seen = new Set<string>();
    for (const ch of CHARSET) {
      const g = glyph(ch);
      expect(g.length).toBe(GLYPH_WIDTH * GLYPH_HEIGHT);
      expect(g.some((v) => v === 1)).toBe(true);
      seen.add(g.join(''));
    }
    expect(seen.size).toBe(36);
    expect(() => glyph('a')).toThrow(/^glyph: no glyph for "a"/);
  });

  it('registration numbers follow the Indian format, and the layout has one cell per character', () => {
    const rng = new Rng(5);
    for (let i = 0; i < 200; i++) {
      const groups = randomPlateGroups(rng), text = groups.join(' ');
      expect(text).toMatch(/^[A-Z]{2} (0[1-9]|[1-9]\d) [A-HJ-NP-Z]{1,2} \d{4}$/);
      expect(text.endsWith('0000')).toBe(false);
      const layout = plateLayout(groups);
      expect(layout.cells.length).toBe(layout.chars.length);
      expect(positionKinds(groups).map((k, j) => (k === 'digit') === /\d/.test(layout.chars[j]!))).not.toContain(false);
      // Cells lie inside the plate, left to right without overlap.
      layout.cells.forEach((c, j) => {
        expect(c.x).toBeGreaterThanOrEqual(PLATE_UNITS.padX);
        expect(c.x + c.width).toBeLessThanOrEqual(layout.width - PLATE_UNITS.padX + 1e-9);
        if (j > 0) expect(c.x).toBeGreaterThanOrEqual(layout.cells[j - 1]!.x + layout.cells[j - 1]!.width);
      });
    }
  });

  it('ink is the glyph\'s lit font pixels and the border, nothing else', () => {
    const layout = plateLayout(['KA', '01', 'AB', '1234']);
    const c = layout.cells[0]!, g = glyph('K'), ph = PLATE_UNITS.pixelHeight;
    for (let r = 0; r < GLYPH_HEIGHT; r++)
      for (let q = 0; q < GLYPH_WIDTH; q++) expect(isInk(layout, c.x + q + 0.5, c.y + (r + 0.5) * ph)).toBe(g[r * GLYPH_WIDTH + q] === 1);
    expect(isInk(layout, PLATE_UNITS.borderInset + PLATE_UNITS.borderWidth / 2, layout.height / 2)).toBe(true);
    expect(isInk(layout, 0.1, layout.height / 2)).toBe(false);
    expect(isInk(layout, layout.width / 2, 0.1)).toBe(false);
  });

  it('a homography sends each corner to its corner, and degenerate corners are refused in one line', () => {
    const to: Quad = [[10, 12], [60, 8], [65, 30], [8, 26]];
    const h = homography(rectQuad(40, 10), to);
    rectQuad(40, 10).forEach(([x, y], i) => {
      const [u, v] = project(h, x, y);
      expect(u).toBeCloseTo(to[i]![0], 9);
      expect(v).toBeCloseTo(to[i]![1], 9);
    });
    expect(() => homography(rectQuad(1, 1), [[0, 0], [1, 1], [2, 2], [3, 3]])).toThrow(/^homography: the corners are degenerate/);
  });

  it('the same seed gives the same scene; another seed another', () => {
    const a = plateScene(42, { size: S }), b = plateScene(42, { size: S }), c = plateScene(43, { size: S });
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(a.plates.map((p) => [p.text, p.box])).toEqual(b.plates.map((p) => [p.text, p.box]));
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(c.image.data.buffer))).toBe(false);
    expect(a.image.shape).toEqual([1, 3, S, S]);
    expect(a.image.data.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('every pixel a plate touches lies in its box, and the box is tight', () => {
    let plates = 0;
    for (let seed = 0; seed < 12; seed++) {
      const sc = plateScene(seed, { size: S, degrade: false, coverage: true });
      expect(sc.coverage!.length).toBe(sc.plates.length);
      expect(sc.plates.length).toBeLessThanOrEqual(3);
      sc.plates.forEach((p, k) => {
        plates++;
        const cov = sc.coverage![k]!, { x, y, width, height } = p.box;
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(x + width).toBeLessThanOrEqual(S);
        expect(y + height).toBeLessThanOrEqual(S);
        let minX = S, maxX = -1, minY = S, maxY = -1, full = 0;
        for (let py = 0; py < S; py++)
          for (let px = 0; px < S; px++) {
            const v = cov[py * S + px]!;
            if (v <= 0) continue;
            // A covered pixel has one of its 4 × 4 sample points (offsets 1/8 … 7/8) on the plate, so in the box.
            expect(px + 7 / 8 >= x - 1e-9 && px + 1 / 8 <= x + width + 1e-9 && py + 7 / 8 >= y - 1e-9 && py + 1 / 8 <= y + height + 1e-9).toBe(true);
            minX = Math.min(minX, px); maxX = Math.max(maxX, px); minY = Math.min(minY, py); maxY = Math.max(maxY, py);
            if (v === 1) full++;
          }
        expect(full).toBeGreaterThan(0);
        expect(minX).toBeLessThanOrEqual(x + 1);
        expect(maxX + 1).toBeGreaterThanOrEqual(x + width - 1);
        expect(minY).toBeLessThanOrEqual(y + 1);
        expect(maxY + 1).toBeGreaterThanOrEqual(y + height - 1);
      });
      // Plates never overlap one another.
      for (let i = 0; i < sc.plates.length; i++)
        for (let j = i + 1; j < sc.plates.length; j++) {
          const a = sc.plates[i]!.box, b = sc.plates[j]!.box;
          expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(true);
        }
    }
    expect(plates).toBeGreaterThan(8);
  });

  it('the splits are disjoint seed ranges, and bad options are refused in one line', async () => {
    const train = await plateScenes({ split: 'train', count: 5, size: S, photos: false });
    const test = await plateScenes({ split: 'test', count: 5, size: S, photos: false });
    expect(train.photos).toBe(false);
    expect(PLATE_SPLITS.test.firstSeed - PLATE_SPLITS.train.firstSeed).toBeGreaterThanOrEqual(PLATE_SPLITS.maxCount);
    expect(train.scene(3).image.data).toEqual(plateScene(PLATE_SPLITS.train.firstSeed + 3, { size: S }).image.data);
    expect(test.scene(3).image.data).toEqual(plateScene(PLATE_SPLITS.test.firstSeed + 3, { size: S }).image.data);
    expect(() => train.scene(5)).toThrow(/^plateScenes: scene 5 is outside the 5 scenes/);
    expect(() => plateScene(-1, { size: S })).toThrow(/^plateScene: seed = -1 must be an integer from 0 to 4294967295$/);
    expect(() => plateScene(1, { size: 8 })).toThrow(/^plateScene: size = 8 must be an integer from 16 to 2048$/);
    expect(() => plateScene(1, { size: S, maxPlates: 9 })).toThrow(/^plateScene: maxPlates = 9 must be/);
    await expect(plateScenes({ split: 'val' as 'train', count: 5, size: S })).rejects.toThrow(/^plateScenes: split = "val" must be 'train' or 'test'$/);
    await expect(plateScenes({ split: 'train', count: 0, size: S })).rejects.toThrow(/^plateScenes: count = 0 must be/);
    await expect(plateScenes({ split: 'train', count: 5, size: 20 })).rejects.toThrow(/^plateScenes: size = 20 must be/);
    await expect(plateScenes({ split: 'train', count: 5, size: S, photos: 'yes' as unknown as boolean })).rejects.toThrow(/^plateScenes: photos = "yes"/);
  });
});
