// The packed package installed into a fresh project, as a user gets it: build, `npm pack`, then
// `npm ci --offline` from the local npm cache.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));

export interface Run { code: number | null; stdout: string; stderr: string; ms: number }

/** Where npm finds its cache and registry: kept, so the consumer installs from the cache `npm ci` filled. */
const npmSettings = /^npm_config_(cache|userconfig|globalconfig|registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl)$/i;

/**
 * A child process with the user's plain environment: no NODE_OPTIONS (no loader such as tsx can
 * sneak in), no NODE_ENV=test from vitest, and none of the npm_* variables of the `npm test` that
 * started the suite: npm reads them as settings, and npm_config_local_prefix would make the
 * consumer's `npm ci` install into this repository.
 */
export function run(cmd: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (npmSettings.test(k) || !/^(npm_|NODE_OPTIONS$|NODE_ENV$|VITEST)/i.test(k)) env[k] = v;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** Throws with the command's output unless it exited 0. */
export async function ok(cmd: string, args: readonly string[], cwd: string, timeout?: number): Promise<Run> {
  const r = await run(cmd, args, cwd, timeout);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export interface Packed { tarball: string; bytes: number; files: number; buildMs: number; packMs: number }

/**
 * Builds dist/ into `dir`/stage (never the repository's own dist/, which may be in use) and packs
 * it. Not `npm pack` in the repository: its `prepare` would rerun asbuild, which `npm test` has
 * just done.
 */
export async function buildAndPack(dir: string): Promise<Packed> {
  const stage = join(dir, 'stage');
  mkdirSync(stage, { recursive: true });
  const built = await ok(process.execPath, [join(repo, 'scripts', 'build.mjs'), '--out', join(stage, 'dist')], repo, 300_000);
  for (const f of ['package.json', 'README.md']) copyFileSync(join(repo, f), join(stage, f));
  const packed = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], stage);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; entryCount: number }>;
  const tarball = join(dir, info!.filename);
  return { tarball, bytes: statSync(tarball).size, files: info!.entryCount, buildMs: built.ms, packMs: packed.ms };
}

type LockEntry = Record<string, unknown> & { version?: string; resolved?: string; dev?: boolean; devOptional?: boolean; link?: boolean };

/**
 * A lockfile for a project that depends on the tarball alone, taken from the repository's own
 * lockfile (the same versions `npm ci` just put in the cache). With it npm installs by integrity
 * from the cache and never asks the registry for package metadata, which the cache may lack:
 * `npm ci` fetches tarballs, and abbreviated metadata only for entries without `resolved`.
 */
function consumerLock(name: string, tarballFile: string): object {
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  const spec = `file:${tarballFile}`;
  const packages: Record<string, LockEntry> = {
    '': { name, dependencies: { inflow: spec } },
    'node_modules/inflow': {
      version: pkg.version as string, resolved: spec, license: pkg.license,
      dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.dev || entry.link) continue;
    const copy: LockEntry = { ...entry };
    if (copy.devOptional) {
      delete copy.devOptional;
      copy.optional = true;
    }
    if (!copy.resolved) {
      const pkgName = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      copy.resolved = `https://registry.npmjs.org/${pkgName}/-/${pkgName.split('/').pop()}-${copy.version}.tgz`;
    }
    packages[path] = copy;
  }
  return { name, lockfileVersion: 3, requires: true, packages };
}

/** A fresh ESM project in `dir` with only the tarball installed (offline, from the npm cache). */
export async function installConsumer(dir: string, tarball: string, files: Record<string, string>): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  const tarballFile = tarball.split('/').pop()!;
  copyFileSync(tarball, join(dir, tarballFile));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { inflow: `file:${tarballFile}` } }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(consumerLock('consumer', tarballFile), null, 2));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return ok('npm', ['ci', '--offline', '--no-audit', '--no-fund'], dir, 300_000);
}
