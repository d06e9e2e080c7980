import type { ImageBatch } from '../../image/batch.js';
import type { DigitClassifier } from '../classifier.js';
import { readPlate, type PlacedPlate } from './reader.js';

export interface ReadingChange {
  /** Plates compared. */
  plates: number;
  /** Plates the reader read right before (the only ones the metric is meaningful on). */
  readableBefore: number;
  /** Of those, plates read as a different string after. */
  changed: number;
  /** Characters of the readable plates still read right after, of all their characters. */
  charactersKept: number;
  characters: number;
}

/**
 * The anonymisation metric of docs/plates.md §8: each plate (known text, layout and map) read in
 * the image before and after; among the plates read right before, how many read differently
 * after, and how many characters of theirs survived. `before` and `after` are [1, 3, H, W] in [−1, 1].
 */
export async function readingChange(reader: DigitClassifier, plates: readonly (PlacedPlate & { text: string })[], before: ImageBatch, after: ImageBatch): Promise<ReadingChange> {
  const r: ReadingChange = { plates: plates.length, readableBefore: 0, changed: 0, charactersKept: 0, characters: 0 };
  for (const p of plates) {
    if ((await readPlate(reader, before, p)) !== p.text) continue;
    r.readableBefore++;
    const now = await readPlate(reader, after, p);
    if (now !== p.text) r.changed++;
    for (let k = 0; k < now.length; k++) if (now[k] !== ' ') { r.characters++; if (now[k] === p.text[k]) r.charactersKept++; }
  }
  return r;
}
