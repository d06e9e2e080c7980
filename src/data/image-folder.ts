import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { ImageDataset } from './dataset.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);

export interface FolderOptions {
  /** Target [channels (1 or 3), height, width]. Images are resized to cover and centre-cropped. */
  shape: [number, number, number];
  /** 'skip' (default) warns and skips an unreadable image; 'stop' throws naming the file. */
  onCorrupt?: 'skip' | 'stop';
  warn?: (message: string) => void;
}

/** Every PNG / JPEG / WebP image directly inside `dir`, decoded by sharp, resized to the model's input size. */
export async function loadImageFolder(dir: string, opts: FolderOptions): Promise<ImageDataset> {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error();
    names = readdirSync(dir).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  } catch {
    throw new Error(`${dir}: not a readable folder`);
  }
  if (names.length === 0) throw new Error(`${dir}: no .png, .jpg, .jpeg or .webp images in this folder`);
  const [C, H, W] = opts.shape;
  if (C !== 1 && C !== 3) throw new Error(`image folders give 1 or 3 channels, not ${C}`);
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const chunks: Uint8Array[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      let img = sharp(file, { failOn: 'error' }).resize(W, H, { fit: 'cover' }).removeAlpha();
      img = C === 1 ? img.grayscale() : img.toColourspace('srgb');
      const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== C) throw new Error(`decoded ${info.channels} channels`);
      // sharp gives interleaved HWC; models want planar CHW.
      const chw = new Uint8Array(C * H * W);
      for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) chw[c * H * W + p] = data[p * C + c]!;
      chunks.push(chw);
    } catch (e) {
      const msg = `${file}: cannot read image (${e instanceof Error ? e.message : String(e)})`;
      if (opts.onCorrupt === 'stop') throw new Error(msg);
      warn(`skipping ${msg}`);
    }
  }
  if (chunks.length === 0) throw new Error(`${dir}: none of the ${names.length} images could be read`);
  const images = new Uint8Array(chunks.length * C * H * W);
  chunks.forEach((c, i) => images.set(c, i * C * H * W));
  return { name: dir, images, labels: null, count: chunks.length, shape: [C, H, W] };
}
