import { describe, expect, it } from 'vitest';
import { displaySize, downloadName, MAX_PHOTO_PIXELS, photoSizeProblem } from '../../web/anonymize-inputs.js';

// The demo's photo panel (web/anonymize-panel.ts): its size limit, display size and file name, without a browser.

describe('photo panel rules', () => {
  it('accepts a photo up to the pixel limit and refuses one above it, or one without pixels, in one line', () => {
    expect(photoSizeProblem('a.jpg', 6000, 4000)).toBeNull();
    expect(photoSizeProblem('a.jpg', MAX_PHOTO_PIXELS, 1)).toBeNull();
    expect(photoSizeProblem('a.jpg', MAX_PHOTO_PIXELS + 1, 1)).toMatch(/^a\.jpg: \d+×1 pixels \(25\.0 megapixels\) is over the 25 megapixels/);
    expect(photoSizeProblem('b.png', 50_000, 50_000)).toBe('b.png: 50000×50000 pixels (2500.0 megapixels) is over the 25 megapixels this page processes; scale the photo down and try again');
    expect(photoSizeProblem('c.svg', 0, 0)).toBe('c.svg: the image has no pixels (0×0)');
  });

  it('shows a large photo scaled to fit, aspect kept, and a small one at its own size', () => {
    expect(displaySize(1920, 1080, 480)).toEqual({ width: 480, height: 270, scale: 0.25 });
    expect(displaySize(1080, 1920, 480)).toEqual({ width: 270, height: 480, scale: 0.25 });
    expect(displaySize(300, 200, 480)).toEqual({ width: 300, height: 200, scale: 1 });
    expect(displaySize(10_000, 1, 480)).toEqual({ width: 480, height: 1, scale: 0.048 });
  });

  it('names the download after the photo, always a PNG', () => {
    expect(downloadName('holiday.jpg')).toBe('holiday-anonymized.png');
    expect(downloadName('a.b.webp')).toBe('a.b-anonymized.png');
    expect(downloadName('noext')).toBe('noext-anonymized.png');
    expect(downloadName('.jpg')).toBe('photo-anonymized.png');
  });
});
