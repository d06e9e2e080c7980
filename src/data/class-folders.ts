import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InflowError } from '../engine/errors.js';
import { fsReason, kindOf } from '../io/atomic-write.js';
import type { ImageDataset } from './dataset.js';
import { loadImageFolder, type FolderOptions } from './image-folder.js';

export interface ClassFolderOptions extends FolderOptions {
  /** Class names to load, in label order; default: every sub-folder, sorted by name. */
  classes?: readonly string[];
}

/** Labelled images and the class name of each label. */
export interface ClassFolderSet {
  data: ImageDataset & { labels: Int32Array };
  classNames: string[];
}

/**
 * Real photographs sorted into one sub-folder per class (root/pure/*.png, root/broken/*.jpg, …),
 * each folder read by loadImageFolder (same formats, size limits and skip-or-stop handling of
 * unreadable images). Label k is classNames[k]. Errors are one-line InflowErrors naming the folder.
 */
export async function loadClassFolders(root: string, opts: ClassFolderOptions): Promise<ClassFolderSet> {
  let st: Stats;
  try {
    st = statSync(root);
  } catch (e) {
    throw new InflowError(`${root}: cannot read this folder of class folders (${fsReason(e)})`);
  }
  if (!st.isDirectory()) throw new InflowError(`${root}: is ${kindOf(st)}, not a folder of class folders`);
  let found: string[];
  try {
    found = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  } catch (e) {
    throw new InflowError(`${root}: cannot list this folder (${fsReason(e)})`);
  }
  if (found.length === 0) throw new InflowError(`${root}: no class folders in it (expected one sub-folder of images per class)`);
  if (opts.classes !== undefined && (!Array.isArray(opts.classes) || opts.classes.some((c) => typeof c !== 'string' || c === '')))
    throw new InflowError(`${root}: classes must be a list of class-folder names`);
  const classNames = opts.classes ? [...opts.classes] : found;
  if (classNames.length === 0) throw new InflowError(`${root}: the list of classes to load is empty`);
  if (new Set(classNames).size !== classNames.length) throw new InflowError(`${root}: a class is listed twice in ${classNames.join(', ')}`);
  for (const name of classNames)
    if (!found.includes(name)) throw new InflowError(`${root}: unknown class ${JSON.stringify(name)} (the class folders are ${found.join(', ')})`);
  const parts: ImageDataset[] = [];
  for (const name of classNames) {
    try {
      parts.push(await loadImageFolder(join(root, name), opts));
    } catch (e) {
      if (e instanceof InflowError) throw new InflowError(`class ${JSON.stringify(name)}: ${e.message}`);
      throw e;
    }
  }
  const size = parts[0]!.images.length / Math.max(parts[0]!.count, 1);
  const count = parts.reduce((s, p) => s + p.count, 0);
  const images = new Uint8Array(count * size), labels = new Int32Array(count);
  let n = 0;
  parts.forEach((p, k) => {
    images.set(p.images, n * size);
    labels.fill(k, n, n + p.count);
    n += p.count;
  });
  return { data: { name: root, images, labels, count, shape: [...opts.shape] as [number, number, number] }, classNames };
}
