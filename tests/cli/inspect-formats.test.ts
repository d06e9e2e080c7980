import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectOneLine, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-inspect-'));
const run = (...args: string[]) => runCli(dir, args);
const bundled = fileURLToPath(new URL('../../models/diffusion-mnist.safetensors', import.meta.url));

describe('inflow inspect reads every model-file format', () => {
  it('a diffusion model file: its parameters and config, after the loader\'s checks', () => {
    const r = run('inspect', bundled);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1,114,209 parameters in \d+ tensors, checksums verified/);
    expect(r.stdout).toMatch(/format inflow-diffusion-1; config: \{"kind":"diffusion-model","unet":\{"kind":"unet","imageSize":28/);
    const json = JSON.parse(run('inspect', bundled, '--json').stdout) as { format: string; params: number };
    expect(json).toMatchObject({ format: 'inflow-diffusion-1', params: 1_114_209 });
  });

  it('a diffusion file with one weight byte changed is refused in one line (checksum)', () => {
    const bytes = new Uint8Array(readFileSync(bundled));
    bytes[bytes.length - 5]! ^= 0x40;
    const bad = join(dir, 'flipped.safetensors');
    writeFileSync(bad, bytes);
    expectOneLine(run('inspect', bad), /flipped.safetensors: .*(checksum|CRC)/i);
  });
});
