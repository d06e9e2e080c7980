import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { cleanStaleTemps, fsReason, kindOf } from '../io/atomic-write.js';
import { UserError } from './user-error.js';

const statOrNull = (path: string): Stats | null => {
  try {
    return statSync(path);
  } catch {
    return null;
  }
};

/** The same file or folder by path or by identity (a hard link, a symbolic link, another spelling): what a command must never write over its inputs. */
export function samePath(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  const sa = statOrNull(a), sb = statOrNull(b);
  return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/**
 * Checks a file the command will write (--out, --log) before any work starts, so that a bad path
 * fails in one line at once instead of after minutes of sampling or training: the target is a
 * regular file or absent, and its folder exists or can be created (nothing is created here, so a
 * run refused later leaves no empty folders). Temp files that a killed earlier write of the same
 * target left beside it are removed.
 */
export function prepareOutput(flag: string, path: string): void {
  const st = statOrNull(path);
  if (st && !st.isFile()) throw new UserError(`${flag} ${path}: is ${kindOf(st)}; give a file name to write`);
  const dir = dirname(path) || '.';
  // The nearest folder that exists must be writable: the rest of the path is created in it.
  let existing = dir;
  let found = statOrNull(existing);
  while (!found && dirname(existing) !== existing) {
    existing = dirname(existing);
    found = statOrNull(existing);
  }
  if (found && !found.isDirectory()) throw new UserError(`${flag} ${path}: cannot create the folder ${dir}: ${existing} is ${kindOf(found)}`);
  try {
    accessSync(existing, constants.W_OK);
  } catch (e) {
    throw new UserError(`${flag} ${path}: cannot write in the folder ${existing} (${fsReason(e)})`);
  }
  if (existing === dir) cleanStaleTemps(dir, basename(path));
}

/** Creates the folder of a file about to be written (prepareOutput checked that it can be). */
export function makeParent(path: string): void {
  mkdirSync(dirname(path) || '.', { recursive: true });
}

/** A folder the command writes into (--checkpoint-dir): absent (created later) or a folder. */
export function checkFolder(flag: string, dir: string): void {
  const st = statOrNull(dir);
  if (st && !st.isDirectory()) throw new UserError(`${flag} ${dir}: is ${kindOf(st)}, not a folder`);
}
