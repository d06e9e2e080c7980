// POST /anonymize on a real server (random port, fetch): the response against the library's
// anonymize() on the same decoded pixels, the three formats and the JSON variants, and every bad
// request; a server whose face-api weights are missing still starts and answers the route 503, and
// one whose folder lacks the recognition network answers verify=true 503.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { anonymize, type AnonymizeResult } from '../../src/anonymize/anonymize.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { SAME_PERSON_DISTANCE } from '../../src/anonymize/deidentify.js';
import { faceApiModelDir, loadFaceRecognitionNet, loadTinyFaceDetector } from '../../src/models/detect/face-api-weights.js';
import type { FaceRecognitionNet } from '../../src/models/detect/face-recognition-net.js';
import type { RgbImage } from '../../src/models/detect/image.js';
import type { TinyFaceDetector } from '../../src/models/detect/tiny-face-detector.js';
import { createServer, defaults, type InflowServer, type ServerOptions } from '../../src/serve/server.js';
import { pngHeader } from '../data/png-header.js';
import { faceApiSample } from '../helpers/face-api-oracle.js';
import { pasteScenes } from '../../src/models/plates/pasted-scenes.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../../src/models/plates/plate-file-node.js';
import type { PlateDetector } from '../../src/models/plates/plate-detector.js';
import { bundledModel } from './helpers.js';

const options = (over: Partial<ServerOptions>): ServerOptions => ({
  ...defaults, models: [{ name: 'mnist', path: bundledModel }], engine: { backend: 'wasm', threads: 1 }, logger: false, bodyLimit: 2 ** 20, ...over,
});

let server: InflowServer, url: string;
let engine: Engine, detector: TinyFaceDetector, plateDetector: PlateDetector, recognizer: FaceRecognitionNet;
let png: Buffer, jpeg: Buffer, photo: RgbImage, platePng: Buffer, platePhoto: RgbImage;

/** RGB bytes of encoded image bytes, decoded as the route decodes them. */
async function decode(bytes: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const post = (body: Buffer | string, type: string, query = '') =>
  fetch(`${url}/anonymize${query}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : Uint8Array.from(body) });

beforeAll(async () => {
  // Demo photo 3 at 320 px: small enough to be quick, still three faces for the detector.
  png = await sharp(faceApiSample(3)).resize({ width: 320 }).png().toBuffer();
  jpeg = await sharp(faceApiSample(3)).resize({ width: 320 }).jpeg({ quality: 90 }).toBuffer();
  photo = await decode(png);
  server = await createServer(options({}));
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
  await server.anonymizer.ready;
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  detector = await loadTinyFaceDetector(engine);
  recognizer = await loadFaceRecognitionNet(engine);
  plateDetector = loadPlateDetector(BUNDLED_PLATE_DETECTOR, { engine });
  // Held-out synthetic plate scenes pasted into a grey 640 × 360 image.
  const scene = pasteScenes({ width: 640, height: 360, data: new Uint8Array(640 * 360 * 3).fill(120), channels: 3 }, { first: 0, count: 8, minSide: 150, maxSide: 300, seed: 2 });
  platePng = await sharp(scene.image.data, { raw: { width: 640, height: 360, channels: 3 } }).png().toBuffer();
  platePhoto = await decode(platePng);
});

afterAll(async () => {
  await server?.close();
  detector?.dispose();
  recognizer?.dispose();
  plateDetector?.dispose();
  engine?.dispose();
});

describe('POST /anonymize', () => {
  test('PNG in, PNG out: the library\'s faces and pixels, unchanged outside the mask', async () => {
    expect(server.anonymizer.unavailable()).toBeNull();
    const lib: AnonymizeResult = await anonymize(engine, photo, { detector, mode: 'solid' });
    expect(lib.boxes.length).toBeGreaterThan(0);
    const r = await post(png, 'image/png', '?mode=solid');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(Number(r.headers.get('x-faces'))).toBe(lib.boxes.length);
    const boxes = JSON.parse(r.headers.get('x-boxes')!) as Array<{ x: number; score: number }>;
    boxes.forEach((b, i) => {
      expect(b.x).toBeCloseTo(lib.boxes[i]!.box.x, 1);
      expect(b.score).toBeCloseTo(lib.boxes[i]!.score, 3);
    });
    const out = await decode(Buffer.from(await r.arrayBuffer()));
    expect([out.width, out.height]).toEqual([photo.width, photo.height]);
    let changedOutside = 0, filled = 0;
    for (let p = 0; p < photo.width * photo.height; p++) {
      const inMask = lib.mask.data[p] === 255;
      if (inMask) filled++;
      for (let c = 0; c < 3; c++) if (!inMask && out.data[p * 3 + c] !== photo.data[p * 3 + c]) changedOutside++;
    }
    expect(filled).toBeGreaterThan(0);
    expect(changedOutside).toBe(0);
    expect(Buffer.from(out.data).equals(Buffer.from(lib.image.data))).toBe(true);
  });

  test('options in the query: threshold, shrink, dilate reach the library', async () => {
    const opts = { scoreThreshold: 0.7, shrink: 0, dilate: 2, mode: 'pixelate' as const };
    const lib = await anonymize(engine, photo, { detector, ...opts });
    const r = await post(png, 'image/png', '?mode=pixelate&threshold=0.7&shrink=0&dilate=2&output=json');
    expect(r.status).toBe(200);
    const j = await r.json() as { faces: number; format: string; regions: unknown[]; image: string; width: number };
    expect(j.faces).toBe(lib.boxes.length);
    expect(j.regions).toEqual(lib.regions);
    expect(j.format).toBe('png');
    const out = await decode(Buffer.from(j.image, 'base64'));
    expect(Buffer.from(out.data).equals(Buffer.from(lib.image.data))).toBe(true);
  });

  test('JPEG in, JPEG out; a JSON body with a base64 WebP; format=png', async () => {
    const fromJpeg = await decode(jpeg);
    const lib = await anonymize(engine, fromJpeg, { detector });
    const r = await post(jpeg, 'image/jpeg');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(r.headers.get('x-faces'))).toBe(lib.boxes.length);
    expect((await sharp(Buffer.from(await r.arrayBuffer())).metadata()).format).toBe('jpeg');

    const webp = await sharp(png).webp({ lossless: true }).toBuffer();
    const w = await post(JSON.stringify({ image: webp.toString('base64'), mode: 'blur', format: 'png' }), 'application/json');
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toBe('image/png');
    const libBlur = await anonymize(engine, photo, { detector, mode: 'blur' });
    expect(Buffer.from((await decode(Buffer.from(await w.arrayBuffer()))).data).equals(Buffer.from(libBlur.image.data))).toBe(true);
  });

  test('plates=true&faces=false: the library\'s plates and pixels; output=json lists every detection with its kind', async () => {
    expect(server.anonymizer.platesUnavailable()).toBeNull();
    const lib = await anonymize(engine, platePhoto, { faces: false, plates: true, plateDetector, mode: 'pixelate' });
    expect(lib.plates.length).toBeGreaterThanOrEqual(2);
    const r = await post(platePng, 'image/png', '?mode=pixelate&plates=true&faces=false');
    expect(r.status).toBe(200);
    expect([r.headers.get('x-faces'), r.headers.get('x-plates')]).toEqual(['0', String(lib.plates.length)]);
    const plateBoxes = JSON.parse(r.headers.get('x-plate-boxes')!) as Array<{ x: number; score: number }>;
    plateBoxes.forEach((b, i) => expect(b.x).toBeCloseTo(lib.plates[i]!.box.x, 1));
    const out = await decode(Buffer.from(await r.arrayBuffer()));
    expect(Buffer.from(out.data).equals(Buffer.from(lib.image.data))).toBe(true);
    let changedOutside = 0;
    for (let p = 0; p < 640 * 360; p++) if (!lib.mask.data[p]) for (let c = 0; c < 3; c++) changedOutside += +(out.data[p * 3 + c] !== platePhoto.data[p * 3 + c]);
    expect(changedOutside).toBe(0);
    const j = await (await post(JSON.stringify({ image: platePng.toString('base64'), plates: true, plateThreshold: 0.6, mode: 'solid', output: 'json' }), 'application/json')).json() as
      { faces: number; plates: number; plateBoxes: unknown[]; detections: Array<{ kind: string; score: number }> };
    const libBoth = await anonymize(engine, platePhoto, { detector, plates: true, plateDetector, plateThreshold: 0.6, mode: 'solid' });
    expect([j.faces, j.plates]).toEqual([libBoth.boxes.length, libBoth.plates.length]);
    expect(j.detections.map((d) => d.kind)).toEqual(libBoth.detections.map((d) => d.kind));
    expect(j.detections.every((d) => d.kind !== 'plate' || d.score > 0.6)).toBe(true);
  });

  test('verify=true: each face\'s distance to its original, as the library measures it, in headers or in the JSON', async () => {
    const lib = await anonymize(engine, photo, { detector, recognizer, mode: 'blur', blur: 0.25 });
    const want = lib.detections.map((d) => Math.round(d.distance! * 1e4) / 1e4);
    expect(want).toHaveLength(lib.boxes.length);
    const r = await post(png, 'image/png', '?mode=blur&verify=true');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.headers.get('x-distances')!)).toEqual(want);
    expect(r.headers.get('x-still-matching')).toBe(String(lib.detections.filter((d) => d.distance! <= SAME_PERSON_DISTANCE).length));
    expect(Buffer.from((await decode(Buffer.from(await r.arrayBuffer()))).data).equals(Buffer.from(lib.image.data))).toBe(true);
    const j = await (await post(png, 'image/png', '?mode=solid&verify=true&output=json')).json() as { detections: Array<{ distance: number }>; stillMatching: number };
    const libSolid = await anonymize(engine, photo, { detector, recognizer, mode: 'solid' });
    expect(j.detections.map((d) => d.distance)).toEqual(libSolid.detections.map((d) => Math.round(d.distance! * 1e4) / 1e4));
    expect(j.stillMatching).toBe(libSolid.detections.filter((d) => d.distance! <= SAME_PERSON_DISTANCE).length);
    // Without verify nothing is measured.
    const plain = await post(png, 'image/png', '?mode=solid');
    expect([plain.headers.get('x-distances'), plain.headers.get('x-still-matching')]).toEqual([null, null]);
  });

  test('the OpenAPI document describes the route and its four body types', async () => {
    const doc = await (await fetch(`${url}/v1/openapi.json`)).json() as { paths: Record<string, { post?: { requestBody?: { content: Record<string, unknown> } } }> };
    expect(Object.keys(doc.paths['/anonymize']!.post!.requestBody!.content).sort()).toEqual(['application/json', 'image/jpeg', 'image/png', 'image/webp']);
  });

  test('a photo without faces comes back unchanged, 0 faces', async () => {
    const g = Buffer.alloc(96 * 64 * 3);
    for (let p = 0; p < 96 * 64; p++) { g[p * 3] = p % 96; g[p * 3 + 1] = 60; g[p * 3 + 2] = (p / 96) | 0; }
    const empty = await sharp(g, { raw: { width: 96, height: 64, channels: 3 } }).png().toBuffer();
    const r = await post(empty, 'image/png');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-faces')).toBe('0');
    expect(Buffer.from((await decode(Buffer.from(await r.arrayBuffer()))).data).equals(g)).toBe(true);
  });

  const gif = () => sharp(Buffer.alloc(8 * 8 * 3), { raw: { width: 8, height: 8, channels: 3 } }).gif().toBuffer();
  const bad: Array<[string, () => Promise<Response>, number, RegExp]> = [
    ['corrupt bytes', () => post(Buffer.from('not an image at all'), 'image/png'), 400, /^anonymize: the body is not a readable PNG, JPEG or WebP image$/],
    ['a truncated JPEG', () => post(jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg'), 400, /^anonymize: the JPEG image is corrupt or truncated$/],
    ['an empty body', () => post(Buffer.alloc(0), 'image/png'), 400, /^anonymize: the image body is empty$/],
    ['a 0×0 header', () => post(pngHeader(0, 0), 'image/png'), 400, /^anonymize: /],
    ['a 50 000 × 50 000 header', () => post(pngHeader(50_000, 50_000), 'image/png'), 413, /^anonymize: 50000×50000 pixels is over the 50000000 pixels an image may have$/],
    ['a body over the limit', () => post(Buffer.alloc(2 ** 20 + 1), 'image/png'), 413, /^the body is larger than the limit of 1 MiB/],
    ['a GIF', async () => post(await gif(), 'image/png'), 415, /^anonymize: the image is gif, not PNG, JPEG or WebP$/],
    ['a content type it does not take', () => post('x', 'text/plain'), 415, /^anonymize takes image\/png, image\/jpeg, image\/webp or application\/json, not 'text\/plain'$/],
    ['a content type the server does not read', () => post('<x/>', 'application/xml'), 415, /^unsupported content type 'application\/xml'/],
    ['a JPEG sent as PNG', () => post(jpeg, 'image/png'), 415, /^anonymize: the body is a JPEG image but its content type is 'image\/png'$/],
    ['mode inpaint', () => post(png, 'image/png', '?mode=inpaint'), 400, /^anonymize: mode 'inpaint' needs a diffusion model/],
    ['an unknown mode', () => post(png, 'image/png', '?mode=smudge'), 400, /^anonymize: mode = "smudge" must be one of blur, pixelate, solid, telea$/],
    ['a threshold out of range', () => post(png, 'image/png', '?threshold=1.5'), 400, /^anonymize: threshold = 1.5 must be between 0 and 1$/],
    ['a threshold that is no number', () => post(png, 'image/png', '?threshold=high'), 400, /^anonymize: threshold = "high" must be a number$/],
    ['a shrink out of range', () => post(png, 'image/png', '?shrink=0.7'), 400, /^anonymize: shrink = 0.7/],
    ['an unknown option', () => post(png, 'image/png', '?colour=red'), 400, /^anonymize: unknown option "colour"/],
    ['an option given twice', () => post(png, 'image/png', '?mode=blur&mode=solid'), 400, /^anonymize: mode is given more than once$/],
    ['a 50 000 × 50 000 header, plates only', () => post(pngHeader(50_000, 50_000), 'image/png', '?faces=false&plates=true'), 413, /^anonymize: 50000×50000 pixels is over the 50000000 pixels an image may have$/],
    ['a truncated JPEG, with plates', () => post(jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg', '?plates=true'), 400, /^anonymize: the JPEG image is corrupt or truncated$/],
    ['plates that is no switch', () => post(png, 'image/png', '?plates=maybe'), 400, /^anonymize: plates = "maybe" must be true or false$/],
    ['faces=false alone', () => post(png, 'image/png', '?faces=false'), 400, /^anonymize: faces=false leaves nothing to hide: add plates=true/],
    ['plateThreshold without plates', () => post(png, 'image/png', '?plateThreshold=0.3'), 400, /^anonymize: plateThreshold applies to plates: add plates=true$/],
    ['a face threshold with faces=false', () => post(png, 'image/png', '?faces=false&plates=true&threshold=0.3'), 400, /^anonymize: threshold applies to faces, but faces=false$/],
    ['verify that is no switch', () => post(png, 'image/png', '?verify=yes'), 400, /^anonymize: verify = "yes" must be true or false$/],
    ['verify with faces=false', () => post(platePng, 'image/png', '?faces=false&plates=true&verify=true'), 400, /^anonymize: verify checks faces, but faces=false$/],
    ['JSON without an image', () => post(JSON.stringify({ mode: 'blur' }), 'application/json'), 400, /^anonymize: image = missing must be/],
  ];
  test.each(bad)('%s: refused with one line', async (_what, send, status, message) => {
    const r = await send();
    expect(r.status).toBe(status);
    const { error } = await r.json() as { error: string };
    expect(error).toMatch(message);
    expect(error).not.toContain('\n');
  });
});

test('without face-api weights the server starts and the route answers 503', async () => {
  const s = await createServer(options({ faceWeights: '/nonexistent/face-api-model' }));
  try {
    await s.anonymizer.ready;
    const health = await s.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const r = await s.app.inject({ method: 'POST', url: '/anonymize', headers: { 'content-type': 'image/png' }, payload: png });
    expect(r.statusCode).toBe(503);
    expect(r.json().error).toMatch(/^face detection is not available: \S*nonexistent/);
    expect(r.json().error).not.toContain('\n');
    // Plates only still work: the plate detector does not depend on face-api.
    const p = await s.app.inject({ method: 'POST', url: '/anonymize?faces=false&plates=true', headers: { 'content-type': 'image/png' }, payload: platePng });
    expect(p.statusCode).toBe(200);
    expect(Number(p.headers['x-plates'])).toBeGreaterThanOrEqual(2);
  } finally {
    await s.close();
  }
});

test('a face-api folder without the recognition network: verify=true answers 503 naming why, the rest works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inflow-face-weights-'));
  for (const f of ['tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin']) copyFileSync(join(faceApiModelDir()!, f), join(dir, f));
  const s = await createServer(options({ faceWeights: dir }));
  try {
    await s.anonymizer.ready;
    expect(s.anonymizer.unavailable()).toBeNull();
    for (let i = 0; i < 2; i++) {
      const r = await s.app.inject({ method: 'POST', url: '/anonymize?verify=true', headers: { 'content-type': 'image/png' }, payload: png });
      expect(r.statusCode).toBe(503);
      expect(r.json().error).toMatch(/^verify is not available: face-api's recognition network did not load: .*face_recognition_model/);
      expect(r.json().error).not.toContain('\n');
    }
    const f = await s.app.inject({ method: 'POST', url: '/anonymize', headers: { 'content-type': 'image/png' }, payload: png });
    expect(f.statusCode).toBe(200);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plate detection can be turned off or given another file: plates=true then answers 503 naming why', async () => {
  for (const [plateModel, why] of [[false, /^plate detection is off on this server$/], ['/nonexistent/plates.safetensors', /^plate detection is not available: \S*nonexistent/]] as const) {
    const s = await createServer(options({ plateModel }));
    try {
      await s.anonymizer.ready;
      const r = await s.app.inject({ method: 'POST', url: '/anonymize?faces=false&plates=true', headers: { 'content-type': 'image/png' }, payload: platePng });
      expect(r.statusCode).toBe(503);
      expect(r.json().error).toMatch(why);
      // Faces do not depend on the plate detector.
      const f = await s.app.inject({ method: 'POST', url: '/anonymize', headers: { 'content-type': 'image/png' }, payload: png });
      expect(f.statusCode).toBe(200);
    } finally {
      await s.close();
    }
  }
});
