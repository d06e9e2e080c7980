/**
 * The photo panel's rules, without the DOM (tests/web/anonymize-inputs.test.ts checks them in
 * Node): the size limit, the display size and the download's name.
 */

/**
 * Largest photo processed, in pixels: a 24-megapixel camera photo fits. The page holds about four
 * RGBA copies of it at once (decoded, sent to the worker, the result, the PNG being written), so
 * 25 Mpx is ≈ 400 MB: about what a browser tab can count on.
 */
export const MAX_PHOTO_PIXELS = 25_000_000;

/** Longest side of the photos as shown (the photo itself is processed at full size). */
export const DISPLAY_SIDE = 480;

/** Null when a width × height photo can be processed, else the one-line reason. */
export function photoSizeProblem(name: string, width: number, height: number): string | null {
  if (!(width >= 1 && height >= 1)) return `${name}: the image has no pixels (${width}×${height})`;
  const n = width * height;
  if (n <= MAX_PHOTO_PIXELS) return null;
  return `${name}: ${width}×${height} pixels (${(n / 1e6).toFixed(1)} megapixels) is over the ${MAX_PHOTO_PIXELS / 1e6} megapixels ` +
    'this page processes; scale the photo down and try again';
}

/** The size a photo is shown at: its own when it fits DISPLAY_SIDE, else scaled down to fit, aspect kept. */
export function displaySize(width: number, height: number, side = DISPLAY_SIDE): { width: number; height: number; scale: number } {
  const scale = Math.min(1, side / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)), scale };
}

/** "holiday.jpg" → "holiday-anonymized.png" (the result is always a PNG: lossless, so untouched pixels stay exact). */
export function downloadName(fileName: string): string {
  const base = fileName.replace(/\.[^./\\]*$/, '') || 'photo';
  return `${base}-anonymized.png`;
}
