/** Images as 0…255 integers, N × C × H × W, with optional integer labels. */
export interface ImageDataset {
  name: string;
  images: Uint8Array;
  labels: Int32Array | null;
  count: number;
  shape: [channels: number, height: number, width: number];
}

export const imageSize = (d: ImageDataset): number => d.shape[0] * d.shape[1] * d.shape[2];

/** The rows at `indices`, as a new dataset (used for splits and batches). */
export function subset(d: ImageDataset, indices: readonly number[], name = d.name): ImageDataset {
  const size = imageSize(d);
  const images = new Uint8Array(indices.length * size);
  const labels = d.labels ? new Int32Array(indices.length) : null;
  indices.forEach((src, i) => {
    images.set(d.images.subarray(src * size, (src + 1) * size), i * size);
    if (labels) labels[i] = d.labels![src]!;
  });
  return { name, images, labels, count: indices.length, shape: d.shape };
}

/** Float values (still 0…255) of the images at `indices`, ready for dequantization. */
export function batchValues(d: ImageDataset, indices: readonly number[]): Float32Array {
  const size = imageSize(d);
  const out = new Float32Array(indices.length * size);
  indices.forEach((src, i) => {
    const img = d.images.subarray(src * size, (src + 1) * size);
    for (let j = 0; j < size; j++) out[i * size + j] = img[j]!;
  });
  return out;
}

/** The images of a dataset padded with zeros (black) to side × side, centred (28 × 28 digits to a 32 × 32 model). */
export function padImages<D extends ImageDataset>(d: D, side: number): D {
  const [C, H, W] = d.shape, oy = (side - H) >> 1, ox = (side - W) >> 1;
  const out = new Uint8Array(d.count * C * side * side);
  for (let i = 0; i < d.count * C; i++)
    for (let y = 0; y < H; y++) out.set(d.images.subarray((i * H + y) * W, (i * H + y + 1) * W), (i * side + y + oy) * side + ox);
  return { ...d, images: out, shape: [C, side, side] };
}
