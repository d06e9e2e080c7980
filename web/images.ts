/** Grayscale images (values in [0, 256)) onto canvases, and the drawing pad's strokes back into model input. */
import { frameDigit } from './pad-input.js';

/** Draws n single-channel images as a grid, each pixel `scale` × `scale`. */
export function drawGrid(canvas: HTMLCanvasElement, pixels: Float32Array, shape: readonly number[], cols: number, scale: number): void {
  const [n, , H, W] = shape as [number, number, number, number];
  const rows = Math.ceil(n / cols);
  const gap = 2;
  canvas.width = cols * (W + gap) - gap;
  canvas.height = rows * (H + gap) - gap;
  canvas.style.width = `${canvas.width * scale}px`;
  canvas.style.height = `${canvas.height * scale}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#30343b';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < n; i++) {
    fillGray(img, pixels.subarray(i * H * W, (i + 1) * H * W));
    ctx.putImageData(img, (i % cols) * (W + gap), Math.floor(i / cols) * (H + gap));
  }
}

export function drawImage(canvas: HTMLCanvasElement, pixels: Float32Array, H: number, W: number): void {
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  fillGray(img, pixels);
  ctx.putImageData(img, 0, 0);
}

/** One image of 1 (grey) or 3 (RGB) planar channels, values 0…255. */
export function drawPixels(canvas: HTMLCanvasElement, pixels: Float32Array, shape: readonly number[]): void {
  const [, C, H, W] = shape as [number, number, number, number];
  if (C === 1) return drawImage(canvas, pixels, H, W);
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H), plane = H * W;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) img.data[4 * p + c] = Math.max(0, Math.min(255, Math.round(pixels[c * plane + p]!)));
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function fillGray(img: ImageData, gray: Float32Array): void {
  for (let p = 0; p < gray.length; p++) {
    const v = Math.max(0, Math.min(255, Math.round(gray[p]!)));
    img.data[4 * p] = img.data[4 * p + 1] = img.data[4 * p + 2] = v;
    img.data[4 * p + 3] = 255;
  }
}

/**
 * A white-on-black pad like MNIST's digits. `toInput` frames the drawing as MNIST framed its
 * digits (web/pad-input.ts) and adds ½ to every level: bits/dim is defined on dequantised pixels
 * in [0, 256). An empty pad gives null: there is nothing to score.
 */
export class DrawingPad {
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(readonly canvas: HTMLCanvasElement, private readonly onStroke: () => void) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.last = this.point(e);
      this.line(this.last, this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = this.point(e);
      this.line(this.last ?? p, p);
      this.last = p;
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  toInput(H: number, W: number): Float32Array | null {
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    const gray = new Float32Array(width * height);
    for (let p = 0; p < gray.length; p++) gray[p] = rgba[4 * p]!;
    const framed = frameDigit(gray, width, height, { height: H, width: W, box: Math.round((20 / 28) * Math.min(H, W)) });
    if (!framed) return null;
    for (let p = 0; p < framed.length; p++) framed[p]! += 0.5;
    return framed;
  }

  /** The pad as it is (canvas size, 0 = black … 255 = ink), not framed: a drawn mask. */
  raw(): { data: Float32Array; width: number; height: number } {
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    return { data: Float32Array.from({ length: width * height }, (_, p) => rgba[4 * p]!), width, height };
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * this.canvas.width, y: ((e.clientY - r.top) / r.height) * this.canvas.height };
  }

  private line(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineCap = c.lineJoin = 'round';
    // MNIST strokes are about 2–3 of 28 pixels wide
    c.lineWidth = this.canvas.width / 11;
    c.beginPath();
    c.moveTo(a.x, a.y);
    c.lineTo(b.x, b.y);
    c.stroke();
  }
}
