import type { SeedClassifierConfig } from './config.js';

/**
 * Every parameter of the classifier a config describes, by state-dict name, without building it:
 * what a model file must carry exactly (docs/model-files.md). Mirrors bodies.ts and classifier.ts;
 * tests/models/seed-classifier-file.test.ts compares it with a built model's parameters.
 */
export function seedClassifierParamShapes(c: SeedClassifierConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const conv = (name: string, cin: number, cout: number, k: number): void => {
    out.set(`${name}.weight`, [cout, cin, k, k]).set(`${name}.bias`, [cout]);
  };
  const [C, H, W] = c.inputShape;
  let features: number;
  if (c.arch === 'basic') {
    let cin = C;
    c.widths.forEach((w, i) => { conv(`body.conv${i}`, cin, w, 3); cin = w; });
    features = cin * (H / 8) * (W / 8);
  } else {
    conv('body.stem', C, c.widths[0], 3);
    let cin = c.widths[0];
    c.widths.forEach((w, i) => {
      conv(`body.block${i}.conv1`, cin, w, 3);
      conv(`body.block${i}.conv2`, w, w, 3);
      if (w !== cin) conv(`body.block${i}.skip`, cin, w, 1);
      cin = w;
    });
    features = cin;
  }
  out.set('fc.weight', [features, c.classes]).set('fc.bias', [c.classes]);
  return out;
}

/** Upper estimate of one image's live activations in bytes: every stage's maps at full resolution, ×3 for ReLU, pooling and temporaries. */
export function seedClassifierActivationBytes(c: SeedClassifierConfig): number {
  const [C, H, W] = c.inputShape;
  return 4 * 3 * H * W * (2 * C + c.widths[0] + c.widths[1] + c.widths[2]);
}
