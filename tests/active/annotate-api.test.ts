import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeLearningData, type ActiveData } from '../../src/active/data.js';
import { defaultRetrain } from '../../src/active/learner.js';
import { AnnotationSession, type AnnotationOptions, type AnnotationState } from '../../src/active/annotate/session.js';
import { annotationServer } from '../../src/active/annotate/server.js';
import { defaultSeedClassifier } from '../../src/models/seed-classifier/config.js';

// The annotation API end to end, engine worker included: a tiny seed pool (3 per class), 3
// training steps a round, 3 MC passes.
const dir = mkdtempSync(join(tmpdir(), 'inflow-annotate-'));
let data: ActiveData;

const options = (labelsPath: string): AnnotationOptions => ({
  data, labelsPath, acquisition: 'batchbald', initial: 4, batch: 3,
  classifier: { ...defaultSeedClassifier, inputShape: [3, 32, 32], classes: 4 },
  retrain: { ...defaultRetrain, steps: 3, batch: 8 }, mcPasses: 3, jointSamples: 200, seed: 1,
  engine: { backend: 'wasm', threads: 1 },
});

async function waitFor(app: FastifyInstance, phase: AnnotationState['phase'], timeout = 60_000): Promise<AnnotationState> {
  const t0 = Date.now();
  for (;;) {
    const s = (await app.inject({ method: 'GET', url: '/api/state' })).json() as AnnotationState;
    if (s.phase === phase) return s;
    if (s.phase === 'failed') throw new Error(`session failed: ${s.error}`);
    if (Date.now() - t0 > timeout) throw new Error(`still ${s.phase} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = (app: FastifyInstance, body: unknown) =>
  app.inject({ method: 'POST', url: '/api/labels', headers: { 'content-type': 'application/json' }, payload: typeof body === 'string' ? body : JSON.stringify(body) });

beforeAll(async () => {
  data = await activeLearningData({ data: 'seeds', pool: [3], test: 3, size: 32 });
});

describe('annotation API (inflow active-learn --serve)', () => {
  const path = join(dir, 'labels.json');
  let session: AnnotationSession;
  let app: FastifyInstance;
  afterAll(async () => { await app?.close(); await session?.close(); });

  it('acquire → label → held-out accuracy appears; bad labels are refused with 400 and one line', async () => {
    session = new AnnotationSession(options(path));
    app = annotationServer(session);
    await session.start();
    const first = await waitFor(app, 'labelling');
    expect(first.batch).toHaveLength(4);
    expect(new Set(first.batch).size).toBe(4);
    expect(first).toMatchObject({ labelled: 0, rounds: [], classNames: ['pure', 'discoloured', 'broken', 'silkcut'], pool: 12 });

    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('id="history"');
    const png = await app.inject({ method: 'GET', url: `/api/images/${first.batch[0]}.png` });
    expect(png.statusCode).toBe(200);
    expect(png.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    expect((await app.inject({ method: 'GET', url: '/api/images/12.png' })).statusCode).toBe(404);

    const outside = [...Array(12).keys()].find((i) => !first.batch.includes(i))!;
    const bad: [unknown, RegExp][] = [
      [{ labels: [{ index: first.batch[0], label: 'mouldy' }] }, /label = "mouldy" is not a class \(the classes are pure, discoloured, broken, silkcut\)/],
      [{ labels: [{ index: outside, label: 'pure' }] }, new RegExp(`index = ${outside} is not an image of the shown batch`)],
      [{ labels: [{ index: first.batch[0], label: 'pure' }, { index: first.batch[0], label: 'broken' }] }, /is labelled twice/],
      [{ labels: [{ index: first.batch[0], label: 'pure' }], batch: 12 }, /batch = 12 is more than the 11 images of the pool still unlabelled/],
      [{ labels: [] }, /must be a non-empty array/],
      [{ labels: [{ index: first.batch[0], label: 'pure' }], extra: 1 }, /unknown field "extra"/],
      ['{"labels": [', /not valid JSON/],
    ];
    for (const [body, message] of bad) {
      const r = await post(app, body);
      expect(r.statusCode, r.body).toBe(400);
      const { error } = r.json() as { error: string };
      expect(error).toMatch(message);
      expect(error).not.toContain('\n');
    }
    // Nothing was taken from the refused bodies.
    expect((await waitFor(app, 'labelling')).labelled).toBe(0);
    expect(existsSync(path)).toBe(false);

    const answers = first.batch.map((index) => ({ index, label: data.classNames[data.pool.labels[index]!]! }));
    const ok = await post(app, { labels: answers });
    expect(ok.statusCode, ok.body).toBe(202);
    expect(ok.json()).toEqual({ accepted: 4, nextBatch: 3 });
    // While the round runs there is no batch to label.
    expect((await post(app, { labels: answers })).statusCode).toBe(409);
    // The labels are on disk before the round ends.
    expect(JSON.parse(readFileSync(path, 'utf8')).labels).toEqual(answers);

    const second = await waitFor(app, 'labelling');
    expect(second.labelled).toBe(4);
    expect(second.rounds).toHaveLength(1);
    expect(second.rounds[0]!.labels).toBe(4);
    expect(second.rounds[0]!.accuracy).toBeGreaterThanOrEqual(0);
    expect(second.rounds[0]!.accuracy).toBeLessThanOrEqual(1);
    expect(second.batch).toHaveLength(3);
    for (const i of second.batch) expect(first.batch).not.toContain(i);
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved.rounds).toEqual(second.rounds);
    expect(saved).toMatchObject({ pool: 12, data: data.description });
  }, 120_000);

  it('a restart resumes from labels.json: same labels, no duplicate accuracy row', async () => {
    await app.close();
    await session.close();
    session = new AnnotationSession(options(path));
    app = annotationServer(session);
    expect(session.resumed).toBe(4);
    await session.start();
    const s = await waitFor(app, 'labelling');
    expect(s.labelled).toBe(4);
    expect(s.rounds).toHaveLength(1);
    expect(s.batch).toHaveLength(3);
  }, 120_000);

  it('refuses a labels file that is not for this pool, in one line', () => {
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ data: 'something else', pool: 12, classNames: data.classNames, labels: [], rounds: [] }));
    expect(() => new AnnotationSession(options(other))).toThrow(/other\.json: labels for "something else" with a pool of 12/);
    writeFileSync(other, JSON.stringify({ data: data.description, pool: 12, classNames: data.classNames, labels: [{ index: 3, label: 'mouldy' }], rounds: [] }));
    expect(() => new AnnotationSession(options(other))).toThrow(/labels\[0\]: unknown class "mouldy"/);
    writeFileSync(other, '{ not json');
    expect(() => new AnnotationSession(options(other))).toThrow(/not a readable JSON file/);
  });
});
