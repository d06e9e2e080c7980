// The photo half of the engine worker (worker.ts routes 'anonymize' here): face-api's
// TinyFaceDetector, downloaded once from the page's own origin, and the library's anonymize().
import { anonymize, detect, type Engine } from 'inflow';
import type { AnonymizeReply, AnonymizeRun } from './protocol.js';

type TinyFaceDetector = detect.TinyFaceDetector;

let loaded: { url: string; engine: Engine; detector: TinyFaceDetector } | null = null;

/** Frees the detector (a new engine, or the worker is restarting). */
export function disposeAnonymize(): void {
  loaded?.detector.dispose();
  loaded = null;
}

async function detectorFor(engine: Engine, url: string): Promise<{ detector: TinyFaceDetector; ms: number }> {
  if (loaded?.url === url && loaded.engine === engine) return { detector: loaded.detector, ms: 0 };
  disposeAnonymize();
  const t0 = performance.now();
  let detector: TinyFaceDetector;
  try {
    detector = await detect.fetchTinyFaceDetector(engine, url);
  } catch (e) {
    throw new Error(`the face detector could not be loaded from ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  loaded = { url, engine, detector };
  return { detector, ms: performance.now() - t0 };
}

export async function runAnonymize(engine: Engine, req: AnonymizeRun): Promise<AnonymizeReply> {
  const { detector, ms: detectorMs } = await detectorFor(engine, req.detectorUrl);
  const t0 = performance.now();
  const r = await anonymize(engine, { width: req.width, height: req.height, data: req.rgba, channels: 4 }, { mode: req.mode, detector });
  return {
    rgba: new Uint8ClampedArray(r.image.data.buffer, r.image.data.byteOffset, r.image.data.length),
    boxes: r.boxes.map((d) => ({ ...d.box, score: d.score })),
    regions: r.regions.map(({ x0, y0, x1, y1 }) => ({ x0, y0, x1, y1 })),
    detectorMs, ms: performance.now() - t0,
  };
}
