import { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { StateDict } from '../nn/module.js';
import { mseLoss } from '../train/tasks/autoencoder.js';
import { Adam, SGD, type Optimizer } from '../train/optimizer.js';
import type { PixelAutoencoder } from './pixel-autoencoder.js';

/**
 * Training of a per-pixel autoencoder (docs/geomap.md §8): reconstruction MSE on minibatches of
 * pixel rows, SGD with Keras's time-based decay or Adam, early stopping on held-out pixels.
 */

export interface TrainPixelOptions {
  /** 'sgd' (default, as the paper) or 'adam'. */
  optimizer?: 'sgd' | 'adam';
  /** Initial learning rate (default 0.01 for SGD, 0.001 for Adam). */
  learningRate?: number;
  /** Keras's time-based decay: the t-th update (from 0) uses lr / (1 + decay·t). Default 0. */
  decay?: number;
  /** Passes over the training pixels (default 15). */
  epochs?: number;
  /** Pixels per update (default 256). */
  batchSize?: number;
  /** Stop after this many epochs without a better held-out loss (default 10); the best epoch's weights are kept. */
  patience?: number;
  /** Held-out pixels for early stopping: at most this many, and at most a tenth of the rows (default 20 000). */
  validation?: number;
  /** Rows trained on per epoch at most, drawn once, seeded (default 200 000): bounds the time on 10⁷-pixel scenes. */
  trainSample?: number;
  seed?: number;
  /** After every update (done/total count updates of the planned run) and, with valLoss, after every epoch. */
  onProgress?: (e: { done: number; total: number; loss: number; epoch: number; valLoss?: number }) => void;
}

export interface TrainPixelResult {
  history: { epoch: number; loss: number; valLoss: number }[];
  /** Epoch (0-based) whose weights the model holds now: the best held-out loss. */
  bestEpoch: number;
  /** Whether early stopping ended the run before the last epoch. */
  stoppedEarly: boolean;
}

/** Keras's `decay` argument of SGD/Adam (before Keras 2.3's schedules): lr_t = lr / (1 + decay·t), t the updates so far. */
export const kerasDecay = (lr: number, decay: number, t: number): number => lr / (1 + decay * t);

const bad = (msg: string): never => { throw new InflowError(`train autoencoder: ${msg}`); };

function intOpt(name: string, v: unknown, min: number, dflt: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) bad(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return x as number;
}

function numOpt(name: string, v: unknown, dflt: number, ok: (x: number) => boolean, rule: string): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) bad(`${name} must be ${rule}, got ${String(v)}`);
  return x as number;
}

/** Copies of the chosen rows (row-major). */
function gatherRows(x: Float32Array, d: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(x.subarray(rows[i]! * d, rows[i]! * d + d), i * d);
  return out;
}

/** Mean squared reconstruction error of rows (row-major m × d), in chunks, without gradients. */
export async function reconstructionMse(model: PixelAutoencoder, x: Float32Array, m: number, chunk = 16384): Promise<number> {
  const d = model.bands, engine = model.engine;
  let total = 0;
  for (let r0 = 0; r0 < m; r0 += chunk) {
    const c = Math.min(chunk, m - r0);
    const e = engine.noGrad(() => engine.scope(() => {
      const t = engine.tensor(x.subarray(r0 * d, (r0 + c) * d), [c, d]);
      return mseLoss(model.forward(t), t);
    }));
    total += (await e.item()) * c;
    e.dispose();
  }
  return total / m;
}

/**
 * Trains `model` in place on n pixel rows (row-major n × bands, already scaled). A seeded shuffle
 * splits off the held-out rows; every epoch reshuffles the training rows. Returns the per-epoch
 * losses (training: mean of the minibatch losses; held-out: full MSE after the epoch).
 */
export async function trainPixelAutoencoder(model: PixelAutoencoder, x: Float32Array, n: number, opts: TrainPixelOptions = {}): Promise<TrainPixelResult> {
  const d = model.bands, engine = model.engine;
  if (!Number.isInteger(n) || n < 2) bad(`needs at least 2 pixel rows, got ${String(n)}`);
  if (x.length !== n * d) bad(`data holds ${x.length} values, not n × bands = ${n} × ${d}`);
  const kind = opts.optimizer ?? 'sgd';
  if (kind !== 'sgd' && kind !== 'adam') bad(`optimizer must be 'sgd' or 'adam', got ${String(kind)}`);
  const lr0 = numOpt('learningRate', opts.learningRate, kind === 'sgd' ? 0.01 : 0.001, (v) => v > 0, 'a number above 0');
  const decay = numOpt('decay', opts.decay, 0, (v) => v >= 0, 'a number ≥ 0');
  const epochs = intOpt('epochs', opts.epochs, 1, 15);
  const batch = intOpt('batchSize', opts.batchSize, 1, 256);
  const patience = intOpt('patience', opts.patience, 1, 10);
  const valMax = intOpt('validation', opts.validation, 1, 20000);
  const trainMax = intOpt('trainSample', opts.trainSample, 1, 200000);
  const seed = intOpt('seed', opts.seed, 0, 0);

  const rng = new Rng(seed);
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const nVal = Math.max(1, Math.min(valMax, Math.floor(n / 10)));
  const val = gatherRows(x, d, order.slice(0, nVal));
  const train = gatherRows(x, d, order.slice(nVal, nVal + trainMax));
  const nTrain = train.length / d;
  const steps = Math.ceil(nTrain / batch), total = steps * epochs;

  const optimizer: Optimizer = kind === 'sgd' ? new SGD(engine) : new Adam(engine);
  const params = model.parameters();
  const history: TrainPixelResult['history'] = [];
  let best = Infinity, bestEpoch = -1, bestState: StateDict | null = null, since = 0, t = 0;
  const rows = Array.from({ length: nTrain }, (_, i) => i);
  const buf = new Float32Array(batch * d);
  model.train();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      rng.shuffle(rows);
      let sum = 0;
      for (let s = 0; s < steps; s++) {
        const m = Math.min(batch, nTrain - s * batch);
        for (let i = 0; i < m; i++) { const r = rows[s * batch + i]!; buf.set(train.subarray(r * d, r * d + d), i * d); }
        const xb = engine.tensor(m === batch ? buf : buf.subarray(0, m * d), [m, d]);
        let grads: Tensor[] = [];
        try {
          const res = engine.valueAndGrads(() => mseLoss(model.forward(xb), xb), params.map((p) => p.value));
          grads = res.grads;
          const loss = await res.value.item();
          res.value.dispose();
          if (!Number.isFinite(loss)) bad(`the loss became ${loss} at epoch ${epoch + 1}, update ${t + 1}: lower the learning rate`);
          optimizer.step(params, grads, kerasDecay(lr0, decay, t));
          t++;
          sum += loss * m;
          opts.onProgress?.({ done: epoch * steps + s + 1, total, loss, epoch });
        } finally {
          for (const g of grads) g.dispose();
          xb.dispose();
        }
      }
      const valLoss = await reconstructionMse(model, val, nVal);
      history.push({ epoch, loss: sum / nTrain, valLoss });
      opts.onProgress?.({ done: (epoch + 1) * steps, total, loss: sum / nTrain, epoch, valLoss });
      if (valLoss < best) {
        best = valLoss; bestEpoch = epoch; since = 0;
        bestState = await model.stateDict();
      } else if (++since >= patience) break;
    }
  } finally {
    optimizer.dispose();
  }
  const stoppedEarly = history.length < epochs;
  // Keep the weights of the best held-out epoch (Keras's EarlyStopping with restore_best_weights).
  if (bestState && bestEpoch !== history.length - 1) model.loadStateDict(bestState);
  model.eval();
  return { history, bestEpoch, stoppedEarly };
}
