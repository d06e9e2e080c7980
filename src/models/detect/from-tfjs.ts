import type { TfjsWeight } from '../../io/tfjs-manifest.js';

/** A network that takes face-api's weights by their tfjs names (TinyFaceDetector, SSD-MobileNetV1, the descriptor net). */
export interface TfjsLoadable {
  loadTfjs(weights: ReadonlyMap<string, TfjsWeight>, source?: string): void;
  dispose(): void;
}

/** `net` with `weights` loaded (src/io/tfjs-manifest.ts), or freed and the loader's error rethrown: no half-loaded network escapes. */
export function withTfjsWeights<T extends TfjsLoadable>(net: T, weights: ReadonlyMap<string, TfjsWeight>, source?: string): T {
  try {
    net.loadTfjs(weights, source);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}
