/** Messages between fuzz/runner.ts and fuzz/child.ts, and the outcome of a case. */

/** Outcomes that are bugs: any of them fails `npm run fuzz` and the CI test. */
export const FAILURES = [
  'crash', 'hang', 'memory', 'silent-nonfinite', 'silent-mismatch', 'internal-text', 'accepted-invalid', 'rejected-valid',
] as const;
export const OUTCOMES = ['rejected', 'accepted', ...FAILURES] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * Text that only JS internals produce: a message with any of it tells the user nothing about the
 * file. JSON.parse's own position messages ("Unexpected token } in JSON at position 9") are not
 * here: inside "header is not valid JSON (...)" they say where the file is broken.
 */
export const INTERNAL_TEXT = /Invalid typed array length|Invalid array length|Maximum call stack|\[object \w+\]|Cannot read propert|Cannot set propert|Cannot convert|Cannot use 'in' operator|is not a function|is not iterable|is not a constructor|\bundefined\b|RangeError|TypeError|ReferenceError|SyntaxError: Unexpected|Array buffer allocation failed|memory access out of bounds|\bunreachable\b|WebAssembly\./;

/** A one-line message longer than this is a dump (a 10 000-deep array echoed back), not a message. */
export const MAX_MESSAGE_CHARS = 1000;

export interface ChildCase {
  index: number;
  path: string;
  mode: 'path' | 'bytes';
  baseShape: [number, number, number];
  invalid: boolean;
  memoryBudget: number;
  /** Harness self-test instead of a file: the child misbehaves on purpose (runner.ts runProbe). */
  probe?: Probe;
}

/** allocate: grows until killed; spike: one short peak above the limit, then a clean result; spin: never returns; exit: dies mid-case; internal: throws a TypeError. */
export type Probe = 'allocate' | 'spike' | 'spin' | 'exit' | 'internal';

export interface ChildResult {
  type: 'result';
  index: number;
  outcome: Outcome;
  stage: 'load' | 'sample' | 'bitsPerDim' | 'check';
  message: string;
  errorName?: string;
  /** The child's VmHWM at the end of the case, reset at its start. */
  peakBytes: number;
  startRssBytes: number;
  ms: number;
}

export type ToParent =
  | { type: 'ready'; pid: number }
  | { type: 'start'; index: number; clearRefs: boolean; startRssBytes: number }
  | ChildResult;

/** 'rejected' for a library error with a clean one-line message, 'internal-text' for anything else. */
export function classifyError(e: unknown, isLibraryError: boolean): { outcome: Outcome; message: string; errorName: string } {
  const name = e instanceof Error ? e.name : typeof e;
  const message = e instanceof Error ? e.message : String(e);
  const why = !isLibraryError ? `not an InflowError/ModelFileError (${name})`
    : /[\r\n]/.test(message.trim()) ? 'message is not one line'
      : message.length > MAX_MESSAGE_CHARS ? `message is ${message.length} characters`
        : INTERNAL_TEXT.test(message) ? `JS-internal text /${INTERNAL_TEXT.exec(message)![0]}/`
          : null;
  const flat = message.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  const shown = flat.length > 300 ? `${flat.slice(0, 300)}… (${message.length} chars)` : flat;
  return why ? { outcome: 'internal-text', message: `${why}: ${shown}`, errorName: name } : { outcome: 'rejected', message: shown, errorName: name };
}
