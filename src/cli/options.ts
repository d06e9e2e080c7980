import { InvalidArgumentError } from 'commander';
import { parseBytes } from '../engine/budget.js';

export const backendChoices = ['auto', 'webgpu', 'wasm', 'reference'] as const;
export type BackendChoice = (typeof backendChoices)[number];

/*
 * Strict parsers for numeric options. Number() is too forgiving for a command line: '' and ' ' are
 * 0, '0x10' is 16, 'Infinity' passes, and a typo such as 'abc' becomes NaN, which seeds and
 * temperatures then carry silently. These accept plain decimal text only and leave ranges
 * (temperature > 0, labels < classes, …) to the library, which checks them for every caller.
 */

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function integer(value: string, expected: string): number {
  const n = INTEGER.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected ${expected}, got '${value}'`);
  return n;
}

/** Any whole number (seeds). */
export function parseInteger(value: string): number {
  return integer(value, 'an integer');
}

/** 1, 2, 3, … (counts and sizes: --n, --batch, --epochs, --threads). */
export function parsePositiveInt(value: string): number {
  const n = integer(value, 'a positive integer');
  if (n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

/** 0, 1, 2, … (--warmup). */
export function parseNonNegativeInt(value: string): number {
  const n = integer(value, 'a whole number ≥ 0');
  if (n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got '${value}'`);
  return n;
}

/** A finite decimal number such as 0.7, -1, 1e-3 (not 'NaN', 'Infinity', '0x1' or ''). */
export function parseNumber(value: string): number {
  const n = DECIMAL.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

/** A size in bytes: 1000000, 512M, 2G (engine/budget.ts parseBytes). */
export function parseSize(value: string): number {
  try {
    return parseBytes(value, 'size');
  } catch {
    throw new InvalidArgumentError(`expected a size in bytes such as 512M, 2G or 1000000, got '${value}'`);
  }
}
