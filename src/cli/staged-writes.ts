/**
 * Files a command writes only if the whole run succeeds: each is written to a temp file beside its
 * target (the name cleanStaleTemps recognises, so a killed run's leftovers are removed later) and
 * all are renamed into place at the end. A bad image in the middle of a folder therefore leaves
 * nothing behind — no half set of outputs, no empty output folder.
 */
import { mkdirSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsReason } from '../io/atomic-write.js';
import { UserError } from './user-error.js';

export class StagedWrites {
  private staged: { tmp: string; target: string }[] = [];
  private madeDirs: string[] = [];

  /** Stages `bytes` for `target`, creating its folder (and remembering it) if needed. */
  write(target: string, bytes: Uint8Array | string): void {
    this.makeDir(dirname(target) || '.');
    const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
    try {
      writeFileSync(tmp, bytes, { flag: 'wx' });
    } catch (e) {
      throw new UserError(`${target}: cannot write (${fsReason(e)})`);
    }
    this.staged.push({ tmp, target });
  }

  /** Moves every staged file into place. */
  commit(): void {
    for (const { tmp, target } of this.staged) {
      try {
        renameSync(tmp, target);
      } catch (e) {
        throw new UserError(`${target}: cannot write (${fsReason(e)})`);
      }
    }
    this.staged = [];
    this.madeDirs = [];
  }

  /** Removes what was staged and the folders made for it. */
  abort(): void {
    for (const { tmp } of this.staged) rmSync(tmp, { force: true });
    for (const dir of this.madeDirs.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty (someone else wrote there) or already gone: leave it.
      }
    }
    this.staged = [];
    this.madeDirs = [];
  }

  private makeDir(dir: string): void {
    const missing: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      try {
        statSync(d);
        break;
      } catch {
        missing.push(d);
        if (dirname(d) === d) break;
      }
    }
    if (!missing.length) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UserError(`${dir}: cannot create the folder (${fsReason(e)})`);
    }
    this.madeDirs.push(...missing.reverse());
  }
}
