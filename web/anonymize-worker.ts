// The photo half of the engine worker (worker.ts routes 'anonymize' here): face-api's
// TinyFaceDetector and, when plates are asked for, inflow's plate detector, each downloaded once
// from the page's own origin, and the library's anonymize().
import { anonymize, detect, plates, type Engine } from 'inflow';
import type { AnonymizeReply, AnonymizeRun } from './protocol.js';

type TinyFaceDetector = detect.TinyFaceDetector;
type PlateDetector = plates.PlateDetector;

let loaded: { url: string; engine: Engine; detector: TinyFaceDetector } | null = null;
let loadedPlates: { url: string; engine: Engine; detector: PlateDetector } | null = null;

/** Frees the detectors (a new engine, or the worker is restarting). */
export function disposeAnonymize(): void {
  loaded?.detector.dispose();
  loaded = null;
  loadedPlates?.detector.dispose();
  loadedPlates = null;
}

async function detectorFor(engine: Engine, url: string): Promise<{ detector: TinyFaceDetector; ms: number }> {
  if (loaded?.url === url && loaded.engine === engine) return { detector: loaded.detector, ms: 0 };
  loaded?.detector.dispose();
  loaded = null;
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

async function plateDetectorFor(engine: Engine, url: string): Promise<{ detector: PlateDetector; ms: number }> {
  if (loadedPlates?.url === url && loadedPlates.engine === engine) return { detector: loadedPlates.detector, ms: 0 };
  loadedPlates?.detector.dispose();
  loadedPlates = null;
  const t0 = performance.now();
  let detector: PlateDetector;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    detector = plates.plateDetectorFromBytes(new Uint8Array(await res.arrayBuffer()), { engine, name: url });
  } catch (e) {
    throw new Error(`the plate detector could not be loaded from ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  loadedPlates = { url, engine, detector };
  return { detector, ms: performance.now() - t0 };
}

const asBox = (d: { box: { x: number; y: number; width: number; height: number }; score: number }) => ({ ...d.box, score: d.score });

export async function runAnonymize(engine: Engine, req: AnonymizeRun): Promise<AnonymizeReply> {
  const { detector, ms: faceMs } = await detectorFor(engine, req.detectorUrl);
  const withPlates = req.plates === true && typeof req.plateDetectorUrl === 'string';
  const plate = withPlates ? await plateDetectorFor(engine, req.plateDetectorUrl!) : null;
  const t0 = performance.now();
  const r = await anonymize(engine, { width: req.width, height: req.height, data: req.rgba, channels: 4 },
    { mode: req.mode, detector, ...(plate ? { plates: true, plateDetector: plate.detector } : {}) });
  return {
    rgba: new Uint8ClampedArray(r.image.data.buffer, r.image.data.byteOffset, r.image.data.length),
    boxes: r.boxes.map(asBox),
    plates: r.plates.map(asBox),
    regions: r.regions.map(({ x0, y0, x1, y1 }) => ({ x0, y0, x1, y1 })),
    detectorMs: faceMs + (plate?.ms ?? 0), ms: performance.now() - t0,
  };
}
