#!/usr/bin/env node
// Copies the sample photographs that Debian's python3-skimage package carries (skimage/data/*.png,
// *.jpg) into a cache folder, for src/data/photos.ts. No Python is involved: the .deb is unpacked
// with dpkg-deb. docs/degradations.md §6 lists the photos and the held-out ones.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = 'python3-skimage';
const HELP = `Usage: node scripts/fetch-photos.mjs [--out DIR] [--deb FILE]

Copies the sample photographs of Debian's ${PACKAGE} package (astronaut, chelsea, coffee, rocket,
brick, grass, gravel, …) into DIR, where src/data/photos.ts (--data photos) reads them.

  --out DIR    where the photos go (default: $INFLOW_PHOTOS_DIR, else .cache/photos in the repository)
  --deb FILE   unpack this ${PACKAGE} .deb instead of fetching one with 'apt-get download ${PACKAGE}'
  --help       this text

Needs dpkg-deb, and apt-get unless --deb is given (Debian, Ubuntu).`;

function die(message) {
  console.error(`fetch-photos: ${message}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { out: process.env.INFLOW_PHOTOS_DIR || join(ROOT, '.cache', 'photos'), deb: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    if (a === '--out' || a === '--deb') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) die(`${a} needs a value (see --help)`);
      opts[a.slice(2)] = resolve(v);
    } else die(`unknown argument '${a}' (see --help)`);
  }
  return opts;
}

/** Runs a command; a missing program or a failure ends the script with one line. */
function run(cmd, args, cwd, hint) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.error) die(`cannot run ${cmd} (${r.error.code === 'ENOENT' ? 'not installed' : r.error.message})${hint ? `; ${hint}` : ''}`);
  if (r.status !== 0) die(`'${cmd} ${args.join(' ')}' failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
}

/** The skimage/data folder inside the unpacked package (its python3 path differs between releases). */
function findDataDir(root) {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop();
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === 'data' && basename(dir) === 'skimage') return p;
      stack.push(p);
    }
  }
  return null;
}

const opts = parseArgs(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), 'inflow-photos-'));
try {
  let deb = opts.deb;
  if (deb) {
    if (!existsSync(deb) || !statSync(deb).isFile()) die(`--deb ${deb}: no such file`);
  } else {
    run('apt-get', ['download', PACKAGE], work, `without apt, fetch ${PACKAGE}_*.deb yourself and pass --deb FILE`);
    deb = readdirSync(work).filter((f) => f.startsWith(`${PACKAGE}_`) && f.endsWith('.deb')).map((f) => join(work, f))[0];
    if (!deb) die(`apt-get download ${PACKAGE} left no .deb file`);
  }
  const unpacked = join(work, 'x');
  run('dpkg-deb', ['-x', deb, unpacked], work, 'install dpkg (Debian, Ubuntu)');
  const data = findDataDir(unpacked);
  if (!data) die(`${basename(deb)} has no skimage/data folder: is it ${PACKAGE}?`);
  mkdirSync(opts.out, { recursive: true });
  const photos = readdirSync(data).filter((f) => ['.png', '.jpg'].includes(extname(f).toLowerCase()) && statSync(join(data, f)).isFile()).sort();
  for (const f of photos) copyFileSync(join(data, f), join(opts.out, f));
  const copyright = join(unpacked, 'usr', 'share', 'doc', PACKAGE, 'copyright');
  if (existsSync(copyright)) copyFileSync(copyright, join(opts.out, 'COPYRIGHT'));
  writeFileSync(join(opts.out, 'SOURCE.txt'), `${basename(deb)}: skimage/data/*.png, *.jpg (licences in COPYRIGHT)\n`);
  console.log(`${photos.length} images from ${basename(deb)} in ${opts.out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
