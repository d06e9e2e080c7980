/**
 * Issue 11's reported model-file cases: each is refused before anything large is allocated, with
 * one line naming the file and what is wrong (docs/model-files.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadClassifier, saveClassifier } from '../../src/io/classifier-file.js';
import { modelFromBytes } from '../../src/io/model-bytes.js';
import { inspectModelFile, loadModel, saveModel } from '../../src/io/model-file.js';
import { CHECKSUM_KEY, decodeSafetensors, encodeSafetensors, ModelFileError } from '../../src/io/safetensors.js';
import { DigitClassifier } from '../../src/models/classifier.js';
import { fincFlow, glow, planModel, type ModelConfig } from '../../src/models/index.js';

const bundled = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'inflow-hostile-'));
const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };

let engine: Engine;
let good: Uint8Array;
let goodLU: Uint8Array;
beforeAll(async () => {
  engine = await createEngine({ backend: 'wasm', threads: 1 });
  const m = fincFlow(tiny, { engine, seed: 1 });
  good = await saveModel(m);
  m.dispose();
  const g = glow(tiny, { engine, seed: 1 });
  goodLU = await saveModel(g);
  g.dispose();
});
afterAll(() => engine.dispose());

interface Parsed { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> }; data: Uint8Array }

/** The header and data section of a safetensors file. */
function split(file: Uint8Array): Parsed {
  const bytes = new Uint8Array(file); // a copy: Buffer.slice() would share memory
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** A file from a header (serialised as given, no padding) and data bytes. */
function join8(header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array {
  const h = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/**
 * The same file with its model config (metadata 'inflow.config') rewritten as text, as someone
 * editing a file by hand would: without the checksum table, which covers the config too (with it,
 * the edit is refused as corruption: see 'a config edited under its checksum').
 */
function withConfigText(bytes: Uint8Array, text: string, keepChecksums = false): Uint8Array {
  const { header, data } = split(bytes);
  header.__metadata__['inflow.config'] = text;
  if (!keepChecksums) delete header.__metadata__[CHECKSUM_KEY];
  return join8(header, data);
}

const withConfig = (bytes: Uint8Array, edit: (c: Record<string, any>) => unknown): Uint8Array => {
  const c = JSON.parse(split(bytes).header.__metadata__['inflow.config']!);
  const out = edit(c);
  return withConfigText(bytes, JSON.stringify(out === undefined ? c : out));
};

const load = (bytes: Uint8Array, name = 'm.safetensors') => modelFromBytes(bytes, { engine, name });

describe('configs that would allocate gigabytes are refused before anything is built', () => {
  it('channels 40000 in one 1×1 layer of the bundled model', async () => {
    const bytes = withConfig(readFileSync(bundled), (c) => { c.architecture.levels[0].steps[3].layers[2].layer.channels = 40000; });
    const before = engine.memory().bytes;
    await expect(load(bytes, 'finc-mnist.safetensors')).rejects.toThrow(
      /^finc-mnist\.safetensors: config architecture\.levels\[0\]\.steps\[3\]\.layers\[2\]\.layer\.channels = 40000 does not match the model config, which implies 4$/);
    expect(engine.memory().bytes).toBe(before);
  });

  it('a width of 3e8', async () => {
    await expect(load(withConfig(good, (c) => { c.model.width = 3e8; }))).rejects.toThrow(
      /^m\.safetensors: config model\.width = 300000000 must be an integer from 1 to 8192$/);
  });

  it('a small file declaring a huge (but in-range) model: the parameters must equal what the file carries', async () => {
    expect(good.length).toBeLessThan(30_000);
    const model: ModelConfig = { ...JSON.parse(split(good).header.__metadata__['inflow.config']!).model, width: 8192, steps: 64 };
    const bytes = withConfig(good, () => ({ kind: 'flow-model', model, architecture: planModel(model) }));
    await expect(load(bytes)).rejects.toThrow(/^m\.safetensors: the config declares [\d,]+ parameters but the file carries [\d,]+ \(tensor '.*' has shape \[8, 2, 3, 3\], the model expects \[8192, 2, 3, 3\]\)$/);
  });

  it('a model over the memory budget is refused with the budget named', async () => {
    const small = await createEngine({ backend: 'reference', memoryBudget: 20_000 });
    await expect(modelFromBytes(good, { engine: small, name: 'm.safetensors' })).rejects.toThrow(
      /^m\.safetensors: the finc model it describes \([\d,]+ parameters, with one 1×8×8 image's activations\) needs .*, over the memory budget of 20000 bytes/);
    expect(() => fincFlow(tiny, { engine: small })).toThrow(/^models\.finc: a finc model of [\d,]+ parameters .* over the memory budget/);
    small.dispose();
  });
});

describe('the architecture must be the one the model config implies', () => {
  it('a file without architecture is refused (it would re-draw the 1×1 permutations)', async () => {
    await expect(load(withConfig(goodLU, (c) => { delete c.architecture; }))).rejects.toThrow(/^m\.safetensors: config architecture is missing \(.*re-drawn\)$/);
  });

  it('an architecture inputShape that differs from the model inputShape', async () => {
    await expect(load(withConfig(good, (c) => { c.architecture.inputShape = [1, 56, 56]; }))).rejects.toThrow(
      /^m\.safetensors: config architecture\.inputShape = \[1, 56, 56\] differs from model\.inputShape \[1, 8, 8\]$/);
  });

  it('an LU 1×1 layer without its permutation, or with one that is not a permutation', async () => {
    const at = (c: any) => c.architecture.levels[0].steps[0].layers[1].layer;
    await expect(load(withConfig(goodLU, (c) => { delete at(c).perm; }))).rejects.toThrow(/layers\[1\]\.layer\.perm is missing \(without it the layer would be re-drawn at random\)/);
    await expect(load(withConfig(goodLU, (c) => { at(c).perm = [0, 0, 1, 2]; }))).rejects.toThrow(/perm = \[0, 0, 1, 2\] must be a permutation of 0…3$/);
    await expect(load(withConfig(goodLU, (c) => { at(c).sign = [1, 2, 1, 1]; }))).rejects.toThrow(/sign = \[1, 2, 1, 1\] must hold 4 entries of 1 or -1$/);
    await expect(load(withConfig(goodLU, (c) => { at(c).kind = 'conv1x1'; }))).rejects.toThrow(/layer\.kind = "conv1x1" does not match the model config, which implies 'conv1x1-lu'$/);
    await expect(load(withConfig(goodLU, (c) => { at(c).khnd = at(c).kind; delete at(c).kind; }))).rejects.toThrow(/layers\[1\]\.layer has unknown key 'khnd' \(known: kind, channels, perm, sign\)$/);
  });

  it('the file loads with its own permutations, not re-drawn ones', async () => {
    const m = await loadModel(goodLU, { engine });
    expect(m.config).toEqual(JSON.parse(split(goodLU).header.__metadata__['inflow.config']!));
    m.dispose();
  });
});

describe('the container: exact coverage, checksums, finite weights', () => {
  it('a header length off by one is refused', async () => {
    // The writer pads the header with spaces; one byte less moves a space into the data section.
    const { header, data } = split(good);
    const padded = join8(header, data, `${JSON.stringify(header)}    `);
    await expect(load(padded)).resolves.toBeTruthy();
    for (const delta of [-1, 1]) {
      const b = padded.slice();
      const dv = new DataView(b.buffer);
      dv.setBigUint64(0, dv.getBigUint64(0, true) + BigInt(delta), true);
      await expect(load(b)).rejects.toThrow(delta < 0 ? /^m\.safetensors: the data section has 1 byte after the last tensor/ : /^m\.safetensors: header is not valid JSON/);
    }
  });

  it('a gap between tensors, and trailing bytes', async () => {
    const { header, data } = split(good);
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const shifted = structuredClone(header);
    for (const n of names.slice(1)) shifted[n]!.data_offsets = shifted[n]!.data_offsets.map((o) => o + 4) as [number, number];
    const gap = new Uint8Array(data.length + 4);
    gap.set(data.subarray(0, header[names[0]!]!.data_offsets[1]));
    gap.set(data.subarray(header[names[0]!]!.data_offsets[1]), header[names[0]!]!.data_offsets[1] + 4);
    await expect(load(join8(shifted, gap))).rejects.toThrow(/^m\.safetensors: bytes \d+…\d+ of the data section belong to no tensor \(a gap before '.*'/);
    const trailing = new Uint8Array(good.length + 8);
    trailing.set(good);
    await expect(load(trailing)).rejects.toThrow(/^m\.safetensors: the data section has 8 bytes after the last tensor/);
  });

  it('a NaN weight is refused naming the tensor and index; allowNonFinite loads it', async () => {
    const { header, data } = split(good);
    delete header.__metadata__[CHECKSUM_KEY];
    const name = 'flow.levels.0.steps.1.coupling.net.conv1.weight';
    const d = data.slice();
    new DataView(d.buffer).setFloat32(header[name]!.data_offsets[0] + 4 * 5, NaN, true);
    const bytes = join8(header, d);
    await expect(load(bytes)).rejects.toThrow(
      /^m\.safetensors: tensor 'flow\.levels\.0\.steps\.1\.coupling\.net\.conv1\.weight' holds NaN at index 5: the weights are corrupt \(the allowNonFinite option loads them anyway/);
    const m = await modelFromBytes(bytes, { engine, allowNonFinite: true });
    expect(Number.isNaN((await m.namedParams().get(name)!.value.data())[5])).toBe(true);
    m.dispose();
  });

  it('a flipped bit in a checksummed file fails its checksum; files without checksums still load', async () => {
    expect(split(good).header.__metadata__[CHECKSUM_KEY]).toMatch(/^\{"flow\./);
    const { header } = split(good);
    const name = 'flow.levels.1.steps.0.actnorm.bias';
    const b = good.slice();
    const at = good.length - split(good).data.length + header[name]!.data_offsets[0];
    b[at] = b[at]! ^ 0x10;
    await expect(load(b)).rejects.toThrow(/^m\.safetensors: tensor 'flow\.levels\.1\.steps\.0\.actnorm\.bias' fails its checksum \(stored crc32 [0-9a-f]{8}, the bytes give [0-9a-f]{8}\): the file is corrupt$/);
    // The config is covered too: an LU 1×1's signs live there, so an edit under the checksum is corruption.
    const signFlip = withConfig(goodLU, (c) => { c.architecture.levels[1].steps[1].layers[1].layer.sign[0] *= -1; });
    await expect(load(signFlip)).resolves.toBeDefined();
    const underSum = withConfigText(goodLU, JSON.stringify((() => {
      const c = JSON.parse(split(goodLU).header.__metadata__['inflow.config']!);
      c.architecture.levels[1].steps[1].layers[1].layer.sign[0] *= -1;
      return c;
    })()), true);
    await expect(load(underSum)).rejects.toThrow(/^m\.safetensors: metadata 'inflow\.config' fails its checksum: the file is corrupt$/);
    const old = readFileSync(bundled);
    expect(split(old).header.__metadata__[CHECKSUM_KEY]).toBeUndefined();
    expect(inspectModelFile(bundled).checksummed).toBe(false);
  });

  it('a singular 1×1 weight is refused before the model is built, by loadModel and inspect alike', async () => {
    for (const [bytes, key] of [[good, 'flow.levels.0.steps.1.conv1x1.weight'], [goodLU, 'flow.levels.1.steps.0.conv1x1.logs']] as const) {
      const { tensors, metadata } = decodeSafetensors(new Uint8Array(bytes));
      // Dense: a zero matrix; LU: exp(logs) underflows to 0 on the diagonal of U.
      tensors.get(key)!.data.fill(key.endsWith('weight') ? 0 : -1e30);
      const bad = encodeSafetensors(tensors, metadata);
      const layer = key.split('.').slice(0, -1).join('.').replace(/\./g, '\\.');
      const message = new RegExp(`^m\\.safetensors: the (4×4|8×8) weight of '${layer}' is singular, so the layer is not invertible: the weights are corrupt$`);
      await expect(load(bad)).rejects.toThrow(message);
      const path = join(dir, 'singular.safetensors');
      writeFileSync(path, bad);
      expect(() => inspectModelFile(path)).toThrow(/singular\.safetensors: the .* is singular/);
    }
  });

  it('required metadata: no format, no config', async () => {
    const { header, data } = split(good);
    const noConfig = structuredClone(header);
    delete noConfig.__metadata__['inflow.config'];
    await expect(load(join8(noConfig, data))).rejects.toThrow(/^m\.safetensors: metadata 'inflow\.config' was removed \(the checksum table lists it\): the file is corrupt$/);
    delete noConfig.__metadata__[CHECKSUM_KEY];
    await expect(load(join8(noConfig, data))).rejects.toThrow(/^m\.safetensors: the metadata has no model config \('inflow\.config' is missing\)$/);
    const noFormat = structuredClone(header);
    delete noFormat.__metadata__['inflow.format'];
    delete noFormat.__metadata__[CHECKSUM_KEY];
    await expect(load(join8(noFormat, data))).rejects.toThrow(/^m\.safetensors: not an inflow model file \(format null\)$/);
  });
});

describe('configs of the wrong type or shape', () => {
  it.each([
    ['null', 'null', /^m\.safetensors: config = null must be an object$/],
    ['a number', '7', /^m\.safetensors: config = 7 must be an object$/],
    ['model null', null, /^m\.safetensors: config model = null must be an object$/],
    ['steps as a string', 'steps', /^m\.safetensors: config model\.steps = "2" must be an integer from 1 to 256$/],
    ['an unknown key', 'unknown', /^m\.safetensors: config model has unknown key 'teleport' \(known: kind, inputShape/],
    ['a __proto__ key', '__proto__', /^m\.safetensors: config model has unknown key '__proto__'/],
    ['levels that do not divide the input', 'levels', /^m\.safetensors: config model\.inputShape = \[1, 8, 8\] cannot be squeezed 4 times/],
  ] as const)('%s', async (_name, kind, message) => {
    let text: string;
    const c = JSON.parse(split(good).header.__metadata__['inflow.config']!);
    if (kind === 'null' || kind === '7') text = kind;
    else if (kind === null) text = JSON.stringify({ ...c, model: null });
    else if (kind === 'steps') text = JSON.stringify({ ...c, model: { ...c.model, steps: '2' } });
    else if (kind === 'unknown') text = JSON.stringify({ ...c, model: { ...c.model, teleport: true } });
    else if (kind === '__proto__') text = JSON.stringify({ ...c, model: c.model }).replace('"model":{', '"model":{"__proto__":{"width":1},');
    else text = JSON.stringify({ ...c, model: { ...c.model, levels: 4 } });
    await expect(load(withConfigText(good, text))).rejects.toThrow(message);
  });

  it('a config nested 10 000 deep', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    await expect(load(withConfigText(good, `{"kind":"flow-model","model":${deep}}`))).rejects.toThrow(
      /^m\.safetensors: the model config in the metadata is not valid JSON \(it is nested deeper than 32 levels\)$/);
    const { data } = split(good);
    await expect(load(join8(null, data, `{"a":${deep}}`))).rejects.toThrow(/^m\.safetensors: header is not valid JSON \(it is nested deeper than 32 levels\)$/);
  });

  it('the same schema guards models.*(cfg) and fromConfig', () => {
    expect(() => fincFlow({ ...tiny, width: 1e9 }, { engine })).toThrow(/^models\.finc: config width = 1000000000 must be an integer from 1 to 8192$/);
    expect(() => fincFlow({ ...tiny, inputShape: [40000, 8, 8] }, { engine })).toThrow(/^models\.finc: config inputShape\[0\] = 40000 must be an integer from 1 to 64$/);
    expect(() => fincFlow({ ...tiny, widht: 8 } as never, { engine })).toThrow(/^models\.finc: config has unknown key 'widht'/);
    expect(() => fincFlow(null as never, { engine })).toThrow(/^models\.finc: the config must be a preset name or an object, not null$/);
  });
});

describe('careless callers', () => {
  it('loadModel without an engine, or with something that is not bytes', async () => {
    await expect(loadModel(good, undefined as never)).rejects.toThrow(/^loadModel: needs \{ engine \} as its second argument/);
    await expect(loadModel(null as never, { engine })).rejects.toThrow(/^model bytes: a model must be given as a Uint8Array or ArrayBuffer of the file's bytes, not null$/);
    await expect(loadModel('', { engine })).rejects.toThrow(/^model file: the path must be a non-empty string$/);
  });
});

describe('only regular files are read', () => {
  it.skipIf(!existsSync('/dev/zero'))('/dev/zero', async () => {
    await expect(loadModel('/dev/zero', { engine })).rejects.toThrow(/^\/dev\/zero: is a device, not a model file$/);
    expect(() => inspectModelFile('/dev/zero')).toThrow(ModelFileError);
  });

  it.skipIf(process.platform === 'win32')('a FIFO', async () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    await expect(loadModel(fifo, { engine })).rejects.toThrow(/pipe\.safetensors: is a named pipe \(FIFO\), not a model file$/);
  });

  it('a directory', async () => {
    const folder = join(dir, 'folder.safetensors');
    mkdirSync(folder);
    await expect(loadModel(folder, { engine })).rejects.toThrow(/folder\.safetensors: is a folder, not a model file$/);
    expect(() => inspectModelFile(folder)).toThrow(/folder\.safetensors: is a folder, not a model file$/);
  });
});

describe('classifier files follow the same rules', () => {
  it('a bad config, a NaN weight and a folder are refused; the bundled classifier loads', async () => {
    const c = new DigitClassifier(engine, { kind: 'digit-classifier', inputShape: [1, 8, 8], classes: 3, widths: [2, 2, 2] });
    const path = join(dir, 'c.safetensors');
    await saveClassifier(c, path);
    c.dispose();
    const bytes = readFileSync(path);
    const { header, data } = split(bytes);
    const write = (name: string, b: Uint8Array) => { const p = join(dir, name); writeFileSync(p, b); return p; };
    const cfg = JSON.parse(header.__metadata__['inflow.config']!);
    delete header.__metadata__[CHECKSUM_KEY]; // a hand-edited config (the checksum would refuse the edit as corruption)
    const huge = structuredClone(header);
    huge.__metadata__['inflow.config'] = JSON.stringify({ ...cfg, widths: [4096, 4096, 1e9] });
    expect(() => loadClassifier(write('huge.safetensors', join8(huge, data)), engine)).toThrow(/huge\.safetensors: config widths\[2\] = 1000000000 must be an integer from 1 to 4096$/);
    const nul = structuredClone(header);
    nul.__metadata__['inflow.config'] = 'null';
    expect(() => loadClassifier(write('null.safetensors', join8(nul, data)), engine)).toThrow(/null\.safetensors: config = null must be an object$/);
    const wide = structuredClone(header);
    wide.__metadata__['inflow.config'] = JSON.stringify({ ...cfg, widths: [2, 2, 64] });
    expect(() => loadClassifier(write('wide.safetensors', join8(wide, data)), engine)).toThrow(/wide\.safetensors: parameter 'conv2\.weight' is missing or has the wrong shape$/);
    const nan = structuredClone(header);
    delete nan.__metadata__[CHECKSUM_KEY];
    const d = data.slice();
    new DataView(d.buffer).setFloat32(nan['fc.bias']!.data_offsets[0], Infinity, true);
    expect(() => loadClassifier(write('inf.safetensors', join8(nan, d)), engine)).toThrow(/inf\.safetensors: tensor 'fc\.bias' holds Infinity at index 0/);
    expect(() => loadClassifier(dir, engine)).toThrow(/is a folder, not a classifier file$/);
    const bundledClassifier = fileURLToPath(new URL('../../models/mnist-classifier.safetensors', import.meta.url));
    const { model } = loadClassifier(bundledClassifier, engine);
    model.dispose();
  });
});
