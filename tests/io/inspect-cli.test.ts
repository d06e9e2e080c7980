/**
 * `inflow inspect` and `inflow sample` accept exactly the same model files and refuse the others
 * with the same one-line message (issue 11: inspect used to print "L 1000000 … width 1000000000"
 * for files sample rejected, and "internal error" for a config of null).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { saveModel } from '../../src/io/model-file.js';
import { CHECKSUM_KEY } from '../../src/io/safetensors.js';
import { fincFlow } from '../../src/models/index.js';
import { expectOneLine, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-inspect-'));
const bundled = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));
const goodPath = join(dir, 'good.safetensors');

/** Rewrites a safetensors file's header (the data section unchanged). */
function rewrite(src: Uint8Array, path: string, edit: (header: Record<string, any>, data: Uint8Array) => void): string {
  const bytes = new Uint8Array(src);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const data = bytes.slice(8 + n);
  edit(header, data);
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  writeFileSync(path, out);
  return path;
}

const bad: Array<[string, () => string, RegExp]> = [];

beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = fincFlow({ inputShape: [1, 8, 8], levels: 2, steps: 1, width: 8 }, { engine });
  await saveModel(model, goodPath);
  model.dispose();
  engine.dispose();
});

describe('inspect and sample agree on which files are valid', () => {
  const good = () => readFileSync(goodPath);
  bad.push(
    ['a config of null', () => rewrite(good(), join(dir, 'null.safetensors'), (h) => { h.__metadata__['inflow.config'] = 'null'; delete h.__metadata__[CHECKSUM_KEY]; }),
      /null\.safetensors: config = null must be an object$/],
    ['channels 40000 in one 1×1 layer of the bundled model', () => rewrite(readFileSync(bundled), join(dir, 'channels.safetensors'), (h) => {
      const c = JSON.parse(h.__metadata__['inflow.config']);
      c.architecture.levels[0].steps[3].layers[2].layer.channels = 40000;
      h.__metadata__['inflow.config'] = JSON.stringify(c);
    }), /channels\.safetensors: config architecture\.levels\[0\]\.steps\[3\]\.layers\[2\]\.layer\.channels = 40000 does not match the model config, which implies 4$/],
    ['a NaN weight', () => rewrite(good(), join(dir, 'nan.safetensors'), (h, data) => {
      delete h.__metadata__[CHECKSUM_KEY];
      new DataView(data.buffer).setFloat32(h['flow.levels.0.steps.0.actnorm.logs'].data_offsets[0], NaN, true);
    }), /nan\.safetensors: tensor 'flow\.levels\.0\.steps\.0\.actnorm\.logs' holds NaN at index 0/],
  );

  it.each(bad)('%s: both exit 2 with the same line', (_name, make, message) => {
    const path = make();
    const inspect = runCli(dir, ['inspect', path]);
    const sample = runCli(dir, ['sample', path, '--n', '1', '--backend', 'wasm', '--threads', '1']);
    expectOneLine(inspect, message);
    expectOneLine(sample, message);
    expect(inspect.stderr.trim()).toBe(sample.stderr.trim());
  });

  it('a valid file: both exit 0, inspect prints the checked model', () => {
    const inspect = runCli(dir, ['inspect', goodPath]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/good\.safetensors: [\d.]+ MB, [\d,]+ parameters in \d+ tensors, checksums verified/);
    expect(inspect.stdout).toMatch(/model: finc, input 1×8×8, L 2 K 1, width 8/);
    const sample = runCli(dir, ['sample', goodPath, '--n', '1', '--backend', 'wasm', '--threads', '1', '--out', join(dir, 's.png')]);
    expect(sample.code, sample.stderr).toBe(0);
  });
});
