import type { Rng } from '../rng.js';

/**
 * The two-letter codes of Indian states and union territories that open a registration number
 * ("KA 01 AB 1234": state, district, series, number; docs/plates.md §1).
 */
export const STATE_CODES = [
  'AN', 'AP', 'AR', 'AS', 'BR', 'CG', 'CH', 'DD', 'DL', 'GA', 'GJ', 'HP', 'HR', 'JH', 'JK', 'KA', 'KL', 'LA', 'LD', 'MH',
  'ML', 'MN', 'MP', 'MZ', 'NL', 'OD', 'PB', 'PY', 'RJ', 'SK', 'TN', 'TR', 'TS', 'UK', 'UP', 'WB',
] as const;

/** Series letters: I and O are not issued (they read as 1 and 0). */
const SERIES_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** A registration number as groups of characters: ['KA', '01', 'AB', '1234']. */
export type PlateGroups = string[];

/** A random registration number in the Indian format: state code, two-digit district 01–99, one or two series letters, four digits 0001–9999. */
export function randomPlateGroups(rng: Rng): PlateGroups {
  const pick = (s: string) => s[rng.below(s.length)]!;
  const district = String(1 + rng.below(99)).padStart(2, '0');
  const series = pick(SERIES_LETTERS) + (rng.uniform() < 0.8 ? pick(SERIES_LETTERS) : '');
  const number = String(1 + rng.below(9999)).padStart(4, '0');
  return [STATE_CODES[rng.below(STATE_CODES.length)]!, district, series, number];
}

/** Which characters the format allows at each position of a plate's groups: letters in the state code and series, digits elsewhere. */
export function positionKinds(groups: PlateGroups): ('letter' | 'digit')[] {
  return groups.flatMap((g, i) => [...g].map(() => (i === 0 || i === 2 ? 'letter' as const : 'digit' as const)));
}

export { DIGITS, SERIES_LETTERS };
