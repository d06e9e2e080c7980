import { importNodeOnly, isNode } from '../../../bindings/node-only.js';

/**
 * Where an 'auto' engine remembers which backend won on an adapter (calibration.ts): one small JSON
 * text. In Node a file in the user's cache folder ($XDG_CACHE_HOME/inflow, else ~/.cache/inflow);
 * in a page localStorage. Failing to read or write it only costs a new measurement.
 */
export interface ChoiceStore {
  /** Where the text lives, for engine.info(). */
  readonly where: string;
  read(): Promise<string | null>;
  write(text: string): Promise<void>;
}

/** A file read back larger than this is not ours (or is damaged): ignored rather than parsed. */
export const MAX_STORE_BYTES = 64 * 1024;

export const STORE_FILE = 'backend-choice.json';
const STORAGE_KEY = 'inflow.backendChoice';

/** A store in memory only (tests, or a host with neither a file system nor localStorage). */
export function memoryStore(initial: string | null = null): ChoiceStore & { text: string | null } {
  return {
    where: 'memory',
    text: initial,
    async read() { return this.text; },
    async write(text) { this.text = text; },
  };
}

/** A store in one file (its folder is created on the first write). */
export function fileStore(path: string): ChoiceStore {
  return {
    where: path,
    async read() {
      const fs = await importNodeOnly<typeof import('node:fs/promises')>('node:fs/promises');
      try {
        const handle = await fs.open(path, 'r');
        try {
          const { size } = await handle.stat();
          if (size > MAX_STORE_BYTES) return null;
          return await handle.readFile('utf8');
        } finally {
          await handle.close();
        }
      } catch {
        return null;
      }
    },
    async write(text) {
      const fs = await importNodeOnly<typeof import('node:fs/promises')>('node:fs/promises');
      const { dirname } = await importNodeOnly<typeof import('node:path')>('node:path');
      await fs.mkdir(dirname(path), { recursive: true });
      // Written aside and renamed, so a concurrent reader sees the old text or the new, never half.
      const tmp = `${path}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, path);
    },
  };
}

/** The cache file in Node: $XDG_CACHE_HOME/inflow/backend-choice.json, else ~/.cache/inflow/…. */
export async function defaultCachePath(): Promise<string> {
  const { join } = await importNodeOnly<typeof import('node:path')>('node:path');
  const { homedir } = await importNodeOnly<typeof import('node:os')>('node:os');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'inflow', STORE_FILE);
}

/** The file in Node, localStorage in a page, else null (nothing is remembered). */
export async function defaultStore(): Promise<ChoiceStore | null> {
  if (isNode()) return fileStore(await defaultCachePath());
  let storage: Storage | undefined;
  try {
    storage = (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    // A page with storage disabled throws on access.
    return null;
  }
  if (!storage) return null;
  const s = storage;
  return {
    where: `localStorage['${STORAGE_KEY}']`,
    async read() {
      try { return s.getItem(STORAGE_KEY); } catch { return null; }
    },
    async write(text) { s.setItem(STORAGE_KEY, text); },
  };
}
