import { closeSync, fsyncSync, lstatSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { InflowError } from '../engine/errors.js';

/** `.<name>.<pid>.<ms>.tmp`: the temp file writeFileAtomic leaves behind only when its process dies mid-write. */
const TEMP = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder', EACCES: 'permission denied', EPERM: 'operation not permitted',
  EISDIR: 'it is a folder', ENOTDIR: 'a part of the path is not a folder', EEXIST: 'it already exists',
  ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system',
  ENAMETOOLONG: 'the name is too long', ELOOP: 'too many symbolic links', EMFILE: 'too many open files', EBUSY: 'busy',
};

/** A file-system error as words for a one-line message: "permission denied (EACCES)". */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code) return FS_REASONS[code] ? `${FS_REASONS[code]} (${code})` : code;
  return e instanceof Error ? e.message : String(e);
}

/** What a path is, in words: 'a folder', 'a named pipe (FIFO)', … */
export function kindOf(st: Stats): string {
  return st.isFile() ? 'a file' : st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket'
    : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
}

/**
 * Writes a file so that a crash at any moment leaves either the old file or the complete new one:
 * write a temp file beside it, fsync it, rename over the target, fsync the directory. A target
 * that exists and is not a regular file (a folder, /dev/null, a pipe) is refused rather than
 * replaced. Failures are InflowErrors naming the target and the reason.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    // Not there yet: the usual case.
  }
  if (st && !st.isFile()) throw new InflowError(`${path}: cannot write here, it is ${kindOf(st)}; give a file name`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number;
  try {
    // 'wx': never reuse (or follow) something already at the temp name.
    fd = openSync(tmp, 'wx');
  } catch (e) {
    throw new InflowError(`${path}: cannot write (${fsReason(e)})`, { cause: e });
  }
  try {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
    rmSync(tmp, { force: true });
    throw new InflowError(`${path}: cannot write (${fsReason(e)})`, { cause: e });
  }
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}

/** Whether a process with this id runs (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files that writeFileAtomic calls killed mid-write left in `dir` (of the file
 * `name` only, if given): those of processes no longer running, and those with this process's own
 * id, which can only come from an earlier process that had the same id since writes here are
 * synchronous. A temp file of a live process is left alone: it may be writing right now.
 * Returns the paths removed.
 */
export function cleanStaleTemps(dir: string, name?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const f of entries) {
    const m = TEMP.exec(f);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && alive(pid)) continue;
    const p = join(dir, f);
    try {
      if (!lstatSync(p).isFile()) continue;
      rmSync(p);
      removed.push(p);
    } catch {
      // Gone already, or not ours to remove: either way nothing to clean.
    }
  }
  return removed;
}
