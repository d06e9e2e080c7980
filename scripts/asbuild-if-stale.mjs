// `npm start`'s kernel step: runs `npm run asbuild` only when bindings/generated/ is missing or
// older than a file the build reads. `npm ci` has just built them (prepare), and rebuilding took
// 9 s of a 2-core machine's first run, 24 s when it was busy (issue 12). Timestamps err towards
// rebuilding: a fresh checkout or any touched input makes its files newer than the outputs.
// Usage: node scripts/asbuild-if-stale.mjs [--check]   (--check: say which, build nothing; exit 1 when stale)
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, 'bindings', 'generated');
/** What bindings/build-wgsl.mjs, build-ops.mjs and build-wasm.mjs write and the engine loads. */
const outputs = ['wgsl.ts', 'ops.ts', 'wasm-bytes.ts', 'inflow-single.wasm', 'inflow-threads.wasm'].map((f) => join(generated, f));
/** What those three scripts read (their own source, the compiler, its config included). */
const inputs = ['assembly', 'wgsl', 'src/ops', 'tests/ops', 'asconfig.json', 'bindings/build-wgsl.mjs', 'bindings/build-ops.mjs',
  'bindings/build-wasm.mjs', 'node_modules/assemblyscript/package.json'].map((p) => join(root, p));
/** Written by build-ops.mjs on the way, so newer than the outputs it precedes: not inputs. */
const written = new Set([join(root, 'assembly', 'index.ts'), join(root, 'assembly', 'generated')]);

/** The newest modification time under `path` and the file that has it; -1 when it does not exist. */
function newest(path) {
  if (written.has(path)) return { time: -1, file: path };
  let st;
  try {
    st = statSync(path);
  } catch {
    return { time: -1, file: path };
  }
  if (!st.isDirectory()) return { time: st.mtimeMs, file: path };
  return readdirSync(path).map((f) => newest(join(path, f))).reduce((a, b) => (b.time > a.time ? b : a), { time: -1, file: path });
}

function staleness() {
  let oldest = Infinity;
  for (const f of outputs) {
    const t = newest(f).time;
    if (t < 0) return `${relative(root, f)} is missing`;
    oldest = Math.min(oldest, t);
  }
  const latest = inputs.map(newest).reduce((a, b) => (b.time > a.time ? b : a));
  return latest.time > oldest ? `${relative(root, latest.file)} changed after the last build` : null;
}

const why = staleness();
if (process.argv.includes('--check')) {
  console.log(why ? `stale: ${why}` : 'kernels up to date');
  process.exit(why ? 1 : 0);
}
if (why) {
  const r = spawnSync('npm', ['run', 'asbuild', '--silent'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(r.status ?? 1);
}
