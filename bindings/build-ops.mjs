// Generates the op registry from src/ops/*.ts and checks every cross-language contract before the
// wasm build (docs/adding-an-op.md):
//  - bindings/generated/ops.ts: every op file's kernels and public functions;
//  - assembly/index.ts: the wasm module's exports (every assembly/*.ts except common.ts);
//  - assembly/generated/<op>.ts: the function codes an op declares in `enums`;
//  - each declared wasm export must exist in assembly/<op>.ts with exactly the declared arguments
//    (then tid: i32, nt: i32), and each declared WGSL kernel must exist in wgsl/<op>.wgsl with a
//    `struct P` of exactly the declared fields; every op must have tests/ops/<op>.cases.ts.
// Any disagreement fails the build, naming the file, the kernel and both sides.
//
// Usage: node bindings/build-ops.mjs [--check-only] [--assembly-dir D] [--wgsl-dir D]
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? resolve(argv[i + 1]) : fallback;
};
const checkOnly = argv.includes('--check-only');
const assemblyDir = option('--assembly-dir', join(root, 'assembly'));
const wgslDir = option('--wgsl-dir', join(root, 'wgsl'));
const opsDir = join(root, 'src', 'ops');
const casesDir = join(root, 'tests', 'ops');

const wasmTypes = { ptr: 'usize', i32: 'i32', f32: 'f32', f64: 'f64' };
const problems = [];

const opFiles = readdirSync(opsDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.d.ts')).sort();
const ops = opFiles.map((f) => f.replace(/\.ts$/, ''));

/** `export function NAME(params)` signatures of an AssemblyScript file, as [name, type] pairs. */
function assemblySignatures(file) {
  const text = readFileSync(file, 'utf8');
  const sigs = new Map();
  for (const m of text.matchAll(/^export function (\w+)\s*\(([^)]*)\)/gm)) {
    const params = m[2].split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
      const [name, type] = p.split(':').map((s) => s.trim());
      return [name, (type ?? '').split('=')[0].trim()];
    });
    sigs.set(m[1], params);
  }
  return sigs;
}

/** The `struct P` fields of each `// @kernel NAME` section of a WGSL file, as [name, type] pairs. */
function wgslStructs(file) {
  const text = readFileSync(file, 'utf8');
  const parts = text.split(/^\/\/ @kernel (\w+)[ \t]*$/m);
  const structs = new Map();
  // A struct P in the prelude serves every section that has none of its own.
  const preludeStruct = parts[0].match(/struct P\s*\{([^}]*)\}/);
  for (let i = 1; i < parts.length; i += 2) {
    const m = parts[i + 1].match(/struct P\s*\{([^}]*)\}/) ?? preludeStruct;
    const fields = m ? m[1].split(',').map((f) => f.replace(/\/\/.*$/gm, '').trim()).filter(Boolean)
      .map((f) => f.split(':').map((s) => s.trim())) : null;
    const placeholders = [...new Set([...(parts[0] + parts[i + 1]).replace(/^\s*\/\/.*$/gm, '').matchAll(/\{\{(\w+)\}\}/g)].map((x) => x[1]))].sort();
    structs.set(parts[i], { fields, placeholders });
  }
  return structs;
}

const show = (pairs) => `(${pairs.map(([n, t]) => `${n}: ${t}`).join(', ')})`;
const exportNames = [];
const enumFiles = {};
/** What each op file makes public (values and types), re-exported by name: every file's `kernels` would collide under `export *`. */
const publicNames = {};

// Op files may import each other through src/ops/index.ts, which re-exports the registry: on a
// fresh checkout write a provisional one (plain re-exports) so those imports resolve while the
// declarations are read; the final file replaces it below.
const registryFile = join(root, 'bindings', 'generated', 'ops.ts');
const listed = existsSync(registryFile)
  ? [...new Set([...readFileSync(registryFile, 'utf8').matchAll(/src\/ops\/([\w-]+)\.js/g)].map((m) => m[1]))].sort().join()
  : null;
if (listed !== [...ops].sort().join()) {
  mkdirSync(dirname(registryFile), { recursive: true });
  writeFileSync(registryFile, [
    '// Provisional registry written by bindings/build-ops.mjs while it reads the op files.',
    'export const opFiles: readonly string[] = [];',
    'export const opKernels: readonly never[] = [];',
    'export const opWasmExports: readonly string[] = [];',
    ...ops.map((op) => `export * from '../../src/ops/${op}.js';`),
    '',
  ].join('\n'));
}

// One module graph entered through src/ops/index.ts, as every program enters it: op files import
// each other, and entering the cycle at an arbitrary op file could touch a binding before its
// module has run.
const entryFile = join(root, 'bindings', 'generated', 'build-ops-entry.ts');
writeFileSync(entryFile, [
  '// Written by bindings/build-ops.mjs to read every op file in one module graph.',
  "import '../../src/ops/index.js';",
  ...ops.map((op, i) => `import * as m${i} from '../../src/ops/${op}.js';`),
  `export const modules = [${ops.map((_, i) => `m${i}`).join(', ')}];`,
  '',
].join('\n'));
const { modules } = await tsImport(pathToFileURL(entryFile).href, import.meta.url);

for (const [i, op] of ops.entries()) {
  const mod = modules[i];
  const where = `src/ops/${op}.ts`;
  const source = readFileSync(join(opsDir, `${op}.ts`), 'utf8');
  publicNames[op] = [
    ...Object.keys(mod).filter((k) => k !== 'kernels'),
    ...[...source.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => `type ${m[1]}`),
  ];
  if (!Array.isArray(mod.kernels) || mod.kernels.length === 0) {
    problems.push(`${where}: exports no \`kernels\` array (every op file declares its kernels)`);
    continue;
  }
  if (!existsSync(join(casesDir, `${op}.cases.ts`))) problems.push(`${where}: no test cases (tests/ops/${op}.cases.ts)`);
  const asFile = join(assemblyDir, `${op}.ts`), wgslFile = join(wgslDir, `${op}.wgsl`);
  // Named as in the repository even when checking copies (--assembly-dir / --wgsl-dir).
  const asName = `assembly/${op}.ts`, wgslName = `wgsl/${op}.wgsl`;
  const sigs = existsSync(asFile) ? assemblySignatures(asFile) : new Map();
  const structs = existsSync(wgslFile) ? wgslStructs(wgslFile) : new Map();
  for (const k of mod.kernels) {
    for (const fn of k.wasm?.exports ?? []) {
      // Kernels of one op file may share an export (solve and solveTranspose): list it once.
      if (!exportNames.includes(fn.export)) exportNames.push(fn.export);
      const args = Object.entries(fn.args).map(([n, t]) => [n, wasmTypes[t]]);
      // A query (a size computation the glue needs) runs on the calling thread only: no tid / nt.
      const declared = fn.query ? args : [...args, ['tid', 'i32'], ['nt', 'i32']];
      const actual = sigs.get(fn.export);
      if (!actual) problems.push(`${where}: kernel ${k.name} declares wasm export ${fn.export}, which ${asName} does not export`);
      else if (show(actual) !== show(declared))
        problems.push(`${asName}: ${fn.export}${show(actual)} disagrees with its declaration in ${where}: ${fn.export}${show(declared)}`);
    }
    for (const g of k.webgpu?.kernels ?? []) {
      const s = structs.get(g.kernel);
      const declared = Object.entries(g.uniforms);
      if (!s) problems.push(`${where}: kernel ${k.name} declares WGSL kernel ${g.kernel}, which ${wgslName} has no "// @kernel ${g.kernel}" section for`);
      else if (!s.fields) problems.push(`${wgslName}: kernel ${g.kernel} has no struct P`);
      else if (show(s.fields) !== show(declared))
        problems.push(`${wgslName}: kernel ${g.kernel} struct P ${show(s.fields)} disagrees with its declaration in ${where}: ${show(declared)}`);
      else if (s.placeholders.join() !== [...(g.placeholders ?? [])].sort().join())
        problems.push(`${wgslName}: kernel ${g.kernel} uses placeholders [${s.placeholders}] but ${where} declares [${g.placeholders ?? []}]`);
    }
    for (const [name, values] of Object.entries(k.enums ?? {})) {
      enumFiles[op] ??= [];
      enumFiles[op].push(`// ${name} of kernel ${k.name}`, ...values.map((v, i) => `export const ${name}_${v}: i32 = ${i};`));
    }
  }
}

// The registry is written even when a contract fails, so a half-finished op breaks only its own
// kernels (the build still fails below and no wasm is compiled from it).
if (!checkOnly) {
  const header = '// Generated by bindings/build-ops.mjs: do not edit.';
  const id = (op) => `op_${op.replace(/\W/g, '_')}`;
  mkdirSync(join(root, 'bindings', 'generated'), { recursive: true });
  writeFileSync(registryFile, [
    header,
    "import type { KernelDef } from '../../src/engine/kernel.js';",
    ...ops.map((op) => `import * as ${id(op)} from '../../src/ops/${op}.js';`),
    '',
    '/** Every op file, by base name. */',
    `export const opFiles: readonly string[] = ${JSON.stringify(ops)};`,
    '/** Every kernel every op file declares. */',
    `export const opKernels: readonly KernelDef[] = [${ops.map((op) => `...${id(op)}.kernels`).join(', ')}];`,
    '/** Every wasm export the op files declare (the kernel runner resolves them by name). */',
    `export const opWasmExports: readonly string[] = ${JSON.stringify(exportNames)};`,
    '',
    ...ops.map((op) => `export { ${publicNames[op].join(', ')} } from '../../src/ops/${op}.js';`),
    '',
  ].join('\n'));
  const asFiles = readdirSync(join(root, 'assembly')).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'common.ts').sort();
  writeFileSync(join(root, 'assembly', 'index.ts'), [
    header,
    '// One wasm module exports every kernel: every file in assembly/ (helpers live in assembly/util/).',
    "export { heapBase, setTaskCounter } from './common';",
    ...asFiles.map((f) => `export * from './${f.replace(/\.ts$/, '')}';`),
    '',
  ].join('\n'));
  mkdirSync(join(root, 'assembly', 'generated'), { recursive: true });
  for (const [op, lines] of Object.entries(enumFiles))
    writeFileSync(join(root, 'assembly', 'generated', `${op}.ts`), [header, ...lines, ''].join('\n'));
  if (problems.length === 0) console.log(`build-ops: ${ops.length} op files, ${exportNames.length} wasm exports checked`);
} else if (problems.length === 0) {
  console.log(`build-ops: contracts of ${ops.length} op files hold`);
}

if (problems.length > 0) {
  console.error(`build-ops: ${problems.length} contract problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
