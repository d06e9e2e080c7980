// The photo half of the engine worker (worker.ts routes 'anonymize' here): face-api's
// TinyFaceDetector, and when asked for, inflow's plate detector and face-api's recognition network
// (the identity check), each downloaded once from the page's own origin, and the library's anonymize().
import { anonymize, anonymizer, detect, plates, type Engine } from 'inflow';
import type { AnonymizeReply, AnonymizeRun } from './protocol.js';

type TinyFaceDetector = detect.TinyFaceDetector;
type PlateDetector = plates.PlateDetector;
type FaceRecognitionNet = detect.FaceRecognitionNet;

/** One detector kept per (engine, url): downloaded on first use, replaced when either changes. */
function cachedDetector<D extends { dispose(): void }>(what: string, load: (engine: Engine, url: string) => Promise<D>) {
  let held: { url: string; engine: Engine; detector: D } | null = null;
  return {
    async get(engine: Engine, url: string): Promise<{ detector: D; ms: number }> {
      if (held?.url === url && held.engine === engine) return { detector: held.detector, ms: 0 };
      this.dispose();
      const t0 = performance.now();
      let detector: D;
      try {
        detector = await load(engine, url);
      } catch (e) {
        throw new Error(`the ${what} could not be loaded from ${url}: ${e instanceof Error ? e.message : String(e)}`);
      }
      held = { url, engine, detector };
      return { detector, ms: performance.now() - t0 };
    },
    dispose(): void {
      held?.detector.dispose();
      held = null;
    },
  };
}

const faceDetector = cachedDetector<TinyFaceDetector>('face detector', (engine, url) => detect.fetchTinyFaceDetector(engine, url));
const plateDetector = cachedDetector<PlateDetector>('plate detector', async (engine, url) => {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return plates.plateDetectorFromBytes(new Uint8Array(await res.arrayBuffer()), { engine, name: url });
});

const recognizer = cachedDetector<FaceRecognitionNet>('face recognition network', (engine, url) => detect.fetchFaceRecognitionNet(engine, url));

/** Frees the detectors (a new engine, or the worker is restarting). */
export function disposeAnonymize(): void {
  faceDetector.dispose();
  plateDetector.dispose();
  recognizer.dispose();
}

const asBox = (d: { box: { x: number; y: number; width: number; height: number }; score: number }) => ({ ...d.box, score: d.score });

export async function runAnonymize(engine: Engine, req: AnonymizeRun): Promise<AnonymizeReply> {
  const { detector, ms: faceMs } = await faceDetector.get(engine, req.detectorUrl);
  const withPlates = req.plates === true && typeof req.plateDetectorUrl === 'string';
  const plate = withPlates ? await plateDetector.get(engine, req.plateDetectorUrl!) : null;
  const check = typeof req.recognizerUrl === 'string' ? await recognizer.get(engine, req.recognizerUrl) : null;
  const t0 = performance.now();
  const r = await anonymize(engine, { width: req.width, height: req.height, data: req.rgba, channels: 4 },
    { mode: req.mode, detector, ...(plate ? { plates: true, plateDetector: plate.detector } : {}), ...(check ? { recognizer: check.detector } : {}) });
  return {
    rgba: new Uint8ClampedArray(r.image.data.buffer, r.image.data.byteOffset, r.image.data.length),
    boxes: r.boxes.map(asBox),
    plates: r.plates.map(asBox),
    regions: r.regions.map(({ x0, y0, x1, y1 }) => ({ x0, y0, x1, y1 })),
    ...(check ? { distances: r.detections.flatMap((d) => (d.kind === 'face' ? [d.distance!] : [])), samePersonDistance: anonymizer.SAME_PERSON_DISTANCE } : {}),
    detectorMs: faceMs + (plate?.ms ?? 0) + (check?.ms ?? 0), ms: performance.now() - t0,
  };
}
