import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { opFiles, opKernels } from '../../bindings/generated/ops.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'inflow-contracts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the contract check of the build against copies of assembly/ and wgsl/ with one file edited. */
function checkWith(dir: 'assembly' | 'wgsl', file: string, edit: (text: string) => string) {
  const copy = join(scratch, `${dir}-${Math.random().toString(36).slice(2)}`);
  cpSync(join(root, dir), copy, { recursive: true });
  const path = join(copy, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after, 'the edit changed nothing').not.toBe(before);
  writeFileSync(path, after);
  return spawnSync(process.execPath, [join(root, 'bindings', 'build-ops.mjs'), '--check-only', `--${dir}-dir`, copy],
    { cwd: root, encoding: 'utf8' });
}

describe('the op registry', () => {
  it('covers every src/ops/*.ts, each with test cases and a kernel on every backend', () => {
    const files = readdirSync(join(root, 'src', 'ops')).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.replace(/\.ts$/, ''));
    expect([...opFiles].sort()).toEqual(files.sort());
    for (const op of files) expect(readdirSync(join(root, 'tests', 'ops')), op).toContain(`${op}.cases.ts`);
    for (const k of opKernels) {
      expect(typeof k.reference, `${k.name} reference`).toBe('function');
      expect(k.wasm, `${k.name} wasm`).toBeDefined();
      expect(k.webgpu, `${k.name} webgpu`).toBeDefined();
    }
    expect(new Set(opKernels.map((k) => k.name)).size).toBe(opKernels.length);
  });

  it('the unmodified sources pass the contract check', () => {
    const r = spawnSync(process.execPath, [join(root, 'bindings', 'build-ops.mjs'), '--check-only'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('fails the build when a wasm signature disagrees with its declaration', () => {
    const r = checkWith('assembly', 'flip.ts', (t) => t.replace('fh: i32, fw: i32, tid', 'fw: i32, fh: i32, tid'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('assembly/flip.ts');
    expect(r.stderr).toMatch(/flip\(x: usize, y: usize, planes: i32, H: i32, W: i32, fw: i32, fh: i32.*disagrees with its declaration in src\/ops\/flip\.ts/);
  });

  it('fails the build when a wasm argument type disagrees', () => {
    const r = checkWith('assembly', 'flip.ts', (t) => t.replace('planes: i32', 'planes: f32'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('planes: f32');
  });

  it('fails the build when a WGSL uniform struct disagrees with its declaration', () => {
    const r = checkWith('wgsl', 'flip.wgsl', (t) => t.replace('struct P { n: u32, H: u32, W: u32, fh: u32, fw: u32 }', 'struct P { n: u32, H: u32, W: u32, fh: f32, fw: u32 }'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/wgsl\/flip\.wgsl: kernel flip struct P .*fh: f32.* disagrees with its declaration in src\/ops\/flip\.ts/);
  });

  it('fails the build when a declared kernel is missing', () => {
    const r = checkWith('wgsl', 'flip.wgsl', (t) => t.replace('// @kernel flip', '// @kernel flipped'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('declares WGSL kernel flip');
  });
});
