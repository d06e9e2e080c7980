import { fail } from '../../engine/errors.js';

/**
 * Our own 5 × 7 bitmap font for licence-plate characters (docs/plates.md §1): one string per glyph,
 * seven rows of five cells, '#' lit. Written for this project, so plates need no font file and
 * render the same everywhere. The reader's 36 classes are CHARSET in this order.
 */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** The characters a plate may hold: digits then capital letters (the reader's class order). */
export const CHARSET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const ROWS: Record<string, string> = {
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '####. #...# #...# #...# #...# #...# ####.',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
};

/** Each glyph as 35 bits, row-major (1 = ink), built once from the table above. */
const GLYPHS: ReadonlyMap<string, Uint8Array> = new Map([...CHARSET].map((ch) => {
  const rows = ROWS[ch]!.split(' ');
  if (rows.length !== GLYPH_HEIGHT || rows.some((r) => r.length !== GLYPH_WIDTH)) throw new Error(`font: glyph '${ch}' is not ${GLYPH_WIDTH}×${GLYPH_HEIGHT}`);
  return [ch, Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0))];
}));

/** The 5 × 7 bits of a character of CHARSET, row-major; a character outside it is a programming error. */
export function glyph(ch: string): Uint8Array {
  const g = GLYPHS.get(ch);
  if (!g) fail('glyph', `no glyph for ${JSON.stringify(ch)} (the font has ${CHARSET})`);
  return g;
}
