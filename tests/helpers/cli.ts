import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

export const cliPath = fileURLToPath(new URL('../../src/cli/inflow.mjs', import.meta.url));

export interface CliRun { code: number | null; stdout: string; stderr: string }

/** The `inflow` CLI as a user runs it: a separate process in `cwd`. */
export function runCli(cwd: string, args: readonly string[], timeout = 60_000): CliRun {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user mistake: exit code 2 and exactly one line on stderr, which says what was wrong. */
export function expectOneLine(r: CliRun, pattern: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/^(Warning|\s+at |\s+- While)/.test(l));
  expect(r.code, r.stderr).toBe(2);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at .*\.(ts|js|mjs):\d+/);
}

/** main() in this process, its output captured: what a user sees, without a process start (for checks that fail before any work). */
export async function runCliInProcess(...args: string[]): Promise<CliRun> {
  const out: string[] = [], err: string[] = [];
  const line = (sink: string[]) => (...a: unknown[]) => { sink.push(`${a.map(String).join(' ')}\n`); };
  vi.spyOn(console, 'log').mockImplementation(line(out));
  vi.spyOn(console, 'error').mockImplementation(line(err));
  vi.spyOn(console, 'warn').mockImplementation(line(err));
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err.push(String(s)); return true; });
  let code: number;
  try {
    code = await main(['node', 'inflow', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}
