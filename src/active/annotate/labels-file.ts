/**
 * The expert's labels on disk (--out/labels.json), written after every submit and read back on the
 * next start, so no answer is lost when the server stops. The file is untrusted on reading: one
 * line names the first thing wrong with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { describeValue, InflowError } from '../../engine/errors.js';

/** Held-out scores after a round of retraining. */
export interface AnnotationRound { labels: number; accuracy: number; macroF1: number }

export interface LabelsFile {
  /** What the pool is (the data description and size); a file for another pool is refused. */
  data: string;
  pool: number;
  classNames: string[];
  /** In the order given; `label` is a class name, so the file reads without the page. */
  labels: { index: number; label: string }[];
  rounds: AnnotationRound[];
}

export function writeLabelsFile(path: string, f: LabelsFile): void {
  writeFileAtomic(path, `${JSON.stringify(f, null, 1)}\n`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file at `path` if there is one, checked against the pool being served; null when absent. */
export function readLabelsFile(path: string, expected: Pick<LabelsFile, 'data' | 'pool' | 'classNames'>): LabelsFile | null {
  if (!existsSync(path)) return null;
  const bad = (why: string): never => { throw new InflowError(`${path}: ${why}`); };
  let f: unknown;
  try {
    f = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return bad(`not a readable JSON file (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObject(f)) return bad('must be a JSON object with data, pool, classNames, labels and rounds');
  if (f.data !== expected.data || f.pool !== expected.pool)
    bad(`labels for ${describeValue(f.data)} with a pool of ${describeValue(f.pool)}, but this pool is ${expected.data} with ${expected.pool} images (use another --out, or the same data flags)`);
  if (!Array.isArray(f.classNames) || f.classNames.join('\n') !== expected.classNames.join('\n'))
    bad(`classes ${describeValue(f.classNames)} differ from this run's ${expected.classNames.join(', ')}`);
  if (!Array.isArray(f.labels)) return bad('labels must be an array of { index, label }');
  const seen = new Set<number>();
  const labels = f.labels.map((e: unknown, n) => {
    if (!isObject(e) || !Number.isSafeInteger(e.index) || (e.index as number) < 0 || (e.index as number) >= expected.pool)
      return bad(`labels[${n}] must be { index, label } with an index 0…${expected.pool - 1}, got ${describeValue(e)}`);
    const index = e.index as number;
    if (seen.has(index)) bad(`labels[${n}]: image ${index} is labelled twice`);
    seen.add(index);
    if (typeof e.label !== 'string' || !expected.classNames.includes(e.label)) bad(`labels[${n}]: unknown class ${describeValue(e.label)} (the classes are ${expected.classNames.join(', ')})`);
    return { index, label: e.label as string };
  });
  const rounds = Array.isArray(f.rounds) ? f.rounds.filter((r): r is AnnotationRound =>
    isObject(r) && Number.isSafeInteger(r.labels) && typeof r.accuracy === 'number' && typeof r.macroF1 === 'number') : [];
  if (rounds.length !== (Array.isArray(f.rounds) ? f.rounds.length : -1)) bad('rounds must be an array of { labels, accuracy, macroF1 }');
  return { data: expected.data, pool: expected.pool, classNames: [...expected.classNames], labels, rounds };
}
