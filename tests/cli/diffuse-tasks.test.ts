import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { buildAutoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import { saveAutoencoder } from '../../src/models/autoencoder/autoencoder-file.js';
import { saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig, ImageConditioning } from '../../src/models/diffusion/schema.js';
import { expectOneLine, runCli } from '../helpers/cli.js';
import { tinyVae } from '../models/autoencoder-fixtures.js';
import { tinyConfig } from '../models/diffusion-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'inflow-diffuse-tasks-'));
const run = (...args: string[]) => runCli(dir, args);
const file = (name: string) => join(dir, name);

/** A 1×S×S UNet (S = 8 or 28) with the given image condition, never trained: the commands only need its file. */
const config = (side: number, conditioning?: ImageConditioning): DiffusionModelConfig => {
  const c = tinyConfig(25, 0);
  return {
    ...c, unet: { ...c.unet, imageSize: side, channelMults: [1, 2], attentionResolutions: [side / 2], ...(conditioning ? { condChannels: conditioning.channels } : {}) },
    ...(conditioning ? { conditioning } : {}),
  };
};

/** Flags of a tiny UNet for 28×28 digits, trained a couple of steps. */
const tinyRun = ['--base-channels', '8', '--channel-mults', '1,2', '--attention', '14', '--groups', '4', '--heads', '2', '--timesteps', '50',
  '--sample-steps', '3', '--batch', '4', '--warmup', '0', '--checkpoint-every', '2', '--backend', 'wasm', '--threads', '1'];

beforeAll(async () => {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const save = async (name: string, c: DiffusionModelConfig) => {
    const m = new DiffusionModel(engine, c, { seed: 1 });
    await saveDiffusionModel(m, file(name));
    m.dispose();
  };
  await save('sr8.safetensors', config(8, { kind: 'image', channels: 1, task: 'super-resolution', scale: 4 }));
  await save('uncond28.safetensors', config(28));
  await save('restore28.safetensors', config(28, { kind: 'image', channels: 1, task: 'restoration', degradations: ['gaussian-noise', 'jpeg'] }));
  await save('denoise28.safetensors', config(28, { kind: 'image', channels: 1, task: 'restoration', degradations: ['gaussian-noise'] }));
  await save('inpaint28.safetensors', config(28, { kind: 'image', channels: 2, task: 'inpainting' }));
  for (const [name, shape] of [['vae8', [1, 8, 8]], ['vae28', [1, 28, 28]]] as const) {
    const ae = buildAutoencoder(engine, tinyVae({ imageShape: [...shape] }), { seed: 2 });
    await saveAutoencoder(ae, file(`${name}.safetensors`));
    ae.dispose();
  }
  engine.dispose();
});

describe('inflow diffuse train --task: bad flags are one line and exit 2', () => {
  it('before any data or model is read', () => {
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--task', 'colourise'), /--task <name>' argument 'colourise' is invalid. Allowed choices are generation, super-resolution, restoration, inpainting/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--task', 'super-resolution', '--scale', '3'), /^inflow: --scale 3 must be at least 2 and divide the image size 28$/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--scale', '4'), /^inflow: --scale applies to --task super-resolution \(this run's task is generation\)$/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--task', 'restoration', '--degradations', 'gaussian-noise,blur'), /argument 'gaussian-noise,blur' is invalid. unknown degradation 'blur'; the kinds are fading, scratches, cracks, defocus-blur, motion-blur, downsample, gaussian-noise, poisson-noise, jpeg$/);
    expectOneLine(run('diffuse', 'train', '--data', 'mnist', '--task', 'inpainting', '--image-size', '32'), /^inflow: --image-size 32: --task inpainting trains on the 28×28 digits as they are \(no padding\)$/);
  });

  it('--autoencoder: not an autoencoder file, missing, for other images, or a latent the UNet cannot take', () => {
    const sr = ['diffuse', 'train', '--data', 'mnist', '--task', 'super-resolution', '--backend', 'wasm'];
    expectOneLine(run(...sr, '--autoencoder', 'sr8.safetensors'), /^inflow: --autoencoder: .*sr8.safetensors: not an inflow autoencoder file \(format "inflow-diffusion-1"\) \(a diffusion model: use `inflow diffuse`\)$/);
    expectOneLine(run(...sr, '--autoencoder', 'vae8.safetensors'), /^inflow: --autoencoder: vae8.safetensors takes 1×8×8 images, MNIST digits are 1×28×28$/);
    expectOneLine(run(...sr, '--autoencoder', 'vae28.safetensors'), /^inflow: the autoencoder's latent side 7 must divide by 2\^2 for 3 levels: use fewer --channel-mults levels \(e.g. --channel-mults 1 --attention 7\)$/);
  });
});

describe('inflow diffuse eval / sample with task models: bad input is one line and exit 2', () => {
  it('flags of another task, a model the data do not fit, a conditioned model in sample', () => {
    expectOneLine(run('diffuse', 'eval', 'sr8.safetensors', '--kinds', 'jpeg', '--backend', 'wasm'), /^inflow: --kinds and --no-mixture apply to restoration models$/);
    expectOneLine(run('diffuse', 'eval', 'sr8.safetensors', '--inpaint', '--backend', 'wasm'), /^inflow: --inpaint measures RePaint with a generation model; this is a super-resolution model$/);
    expectOneLine(run('diffuse', 'eval', 'uncond28.safetensors', '--backend', 'wasm'), /uncond28.safetensors is an unconditional model: give --inpaint to measure RePaint inpainting with it/);
    expectOneLine(run('diffuse', 'eval', 'sr8.safetensors', '--backend', 'wasm'), /^inflow: the model makes 1×8×8 images; mnist-test holds 1×28×28 \(use --images with a folder of such images\)$/);
    expectOneLine(run('diffuse', 'sample', 'sr8.safetensors', '--backend', 'wasm'), /sr8.safetensors is a super-resolution model: it makes images from a condition image, not from noise alone \(measure it with `inflow diffuse eval`\)$/);
  });
});

describe('inflow diffuse eval measures each kind of model on held-out digits', () => {
  it('restoration per kind and the mixture; mask-conditioned inpainting and RePaint against blur fill', () => {
    const r = run('diffuse', 'eval', 'restore28.safetensors', '--n', '2', '--steps', '1', '--json', 'restore.json', '--backend', 'wasm');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/restoration on 2 held-out images of mnist-test, each kind alone at strength 0.5, and a random mixture/);
    expect(r.stdout).toMatch(/\n {2}gaussian-noise +\d+\.\d\d +0\.\d{4} +\d+\.\d\d/);
    const json = JSON.parse(readFileSync(file('restore.json'), 'utf8')) as { rows: Array<{ degradation: string }>; n: number };
    expect(json.rows.map((x) => x.degradation)).toEqual(['gaussian-noise', 'jpeg', 'mixture']);
    // A single-kind specialist has no mixture to measure unless asked for one kind among several.
    const one = run('diffuse', 'eval', 'denoise28.safetensors', '--n', '2', '--steps', '1', '--json', 'denoise.json', '--backend', 'wasm');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).not.toMatch(/mixture/);
    expect((JSON.parse(readFileSync(file('denoise.json'), 'utf8')) as { rows: Array<{ degradation: string }> }).rows.map((x) => x.degradation)).toEqual(['gaussian-noise']);
    const p = run('diffuse', 'eval', 'inpaint28.safetensors', '--n', '2', '--steps', '1', '--backend', 'wasm');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/mask-conditioned inpainting on 2 held-out images .* random masks covering \d+\.\d % on average/);
    expect(p.stdout).toMatch(/inside the mask: model PSNR -?\d+\.\d\d dB, blur fill \d+\.\d\d dB/);
    const rp = run('diffuse', 'eval', 'uncond28.safetensors', '--inpaint', '--n', '2', '--steps', '3', '--jump-length', '1', '--resample', '2', '--backend', 'wasm');
    expect(rp.code, rp.stderr).toBe(0);
    expect(rp.stdout).toMatch(/RePaint \(jump length 1, resample 2\) on 2 held-out images/);
    expect(rp.stdout).toMatch(/known region: largest change 0\.00e\+0/);
  }, 60_000);

  it('pixel super-resolution: trains, and eval compares it with bicubic', () => {
    const t = run('diffuse', 'train', '--task', 'super-resolution', '--data', 'mnist', ...tinyRun, '--max-steps', '2', '--checkpoint-dir', 'sr', '--out', 'sr/sr.safetensors');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/super-resolution ×4 \(condition: the 1×7×7 LR image, bicubic to 28×28\); UNet 1×28×28 \+ 1-channel condition/);
    const e = run('diffuse', 'eval', 'sr/sr.safetensors', '--n', '3', '--steps', '2', '--json', 'sr/eval.json', '--backend', 'wasm');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/super-resolution ×4 on 3 held-out images of mnist-test \(ddpm 2 steps, seed 0, batch 50; [\d.]+ s per image on wasm\):\n {2}bicubic +PSNR \d+\.\d\d dB/);
    const json = JSON.parse(readFileSync(file('sr/eval.json'), 'utf8')) as { scale: number; bicubic: { psnr: number }; autoencoder: unknown };
    expect(json.scale).toBe(4);
    expect(json.bicubic.psnr).toBeGreaterThan(10);
    expect(json.autoencoder).toBeNull();
  }, 60_000);

  it('latent super-resolution: the model file carries the autoencoder; resume continues; eval scores the autoencoder too', () => {
    const latent = ['--task', 'super-resolution', '--autoencoder', 'vae28.safetensors', '--data', 'mnist', ...tinyRun, '--channel-mults', '1', '--attention', '7',
      '--checkpoint-dir', 'lsr', '--out', 'lsr/lsr.safetensors'];
    const t = run('diffuse', 'train', ...latent, '--max-steps', '2');
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/latent super-resolution ×4 \(conv-vae latent 4×7×7, latent scale [\d.]+; condition: the 1×7×7 LR image at the latent's size\); UNet 4×7×7 \+ 1-channel condition/);
    expect(existsSync(file('lsr/lsr.safetensors'))).toBe(true);
    const r = run('diffuse', 'train', '--resume', '--checkpoint-dir', 'lsr', '--out', 'lsr/lsr.safetensors', '--max-steps', '3', '--data', 'mnist', '--backend', 'wasm', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming at step 2/);
    expectOneLine(run('diffuse', 'train', '--resume', '--checkpoint-dir', 'lsr', '--out', 'lsr/lsr.safetensors', '--max-steps', '4', '--data', 'mnist', '--autoencoder', 'vae8.safetensors', '--backend', 'wasm'),
      /^inflow: --autoencoder: vae8.safetensors is not the autoencoder this run started with \(its bytes differ\)/);
    const e = run('diffuse', 'eval', 'lsr/lsr.safetensors', '--n', '2', '--steps', '2', '--backend', 'wasm');
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/latent super-resolution ×4 on 2 held-out images/);
    expect(e.stdout).toMatch(/autoencoder +PSNR -?\d+\.\d\d dB +SSIM -?\d\.\d{4} +\(decode\(encode\(HR\)\)/);
  }, 90_000);
});
