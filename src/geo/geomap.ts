import type { Engine } from '../engine/engine.js';
import { InflowError } from '../engine/errors.js';
import { clusterIndices, elbowK } from './cluster-indices.js';
import { checkModelBands } from './geo-model-file.js';
import { LABEL_NODATA, type Raster } from './geotiff.js';
import { matchClusters } from './hungarian.js';
import { assignClusters, kmeans } from './kmeans.js';
import { majorityFilter } from './majority-filter.js';
import { fitPca, projectPca } from './pca.js';
import { encodePixels, PixelAutoencoder, pixelAutoencoderPreset } from './pixel-autoencoder.js';
import { labelImage, scaledRows } from './pixels.js';
import type { Scene } from './scene.js';
import { trainPixelAutoencoder, type TrainPixelOptions } from './train-autoencoder.js';

/**
 * The geological-mapping pipeline (docs/geomap.md §11): scale each band of the valid pixels, reduce
 * them (PCA, a canonical AE or a stacked AE), cluster the codes with k-means (k fixed, or the elbow
 * of the WCSS over a range), put the labels back on the grid, clean them with a majority filter and,
 * given a reference map, match clusters to units and score.
 */

export type GeomapMethod = 'pca' | 'ae' | 'sae';

/**
 * Training settings as trainPixelAutoencoder takes them (train-autoencoder.ts), except the optimizer's
 * default: 'adam' for the SAE (measured better: docs/geomap.md §16), 'sgd' with Keras decay for the AE
 * (the paper's).
 */
type GeomapTraining = Pick<TrainPixelOptions, 'optimizer' | 'learningRate' | 'decay' | 'epochs' | 'batchSize' | 'patience' | 'trainSample'>;

export interface GeomapOptions extends GeomapTraining {
  method: GeomapMethod;
  /** 2…8, or 'auto': the elbow of the WCSS over kRange. */
  k: number | 'auto';
  /** Default [2, 8]; indices are computed for every k in it when k is 'auto' or indices is true. */
  kRange?: [number, number];
  /** Compute the cluster indices table even for a fixed k (default true when k is 'auto'). */
  indices?: boolean;
  /** 0-based band selection before scaling (default all). */
  bands?: number[];
  /** PCA components / AE code size: default min(5, bands − 1); 1 … bands − 1. */
  codeDim?: number;
  /**
   * Activation of the AE/SAE's output layer. Default 'linear' for both: the paper's SAE ends in a
   * ReLU, which cannot reproduce the negative half of standardised bands and measured 12–17 points
   * below PCA (docs/geomap.md §7, §16); 'relu' with optimizer 'sgd' is the paper's exact model.
   */
  decoderOutput?: 'linear' | 'relu' | 'selu';
  /** Use this trained model instead of training one (its band count must match). */
  model?: PixelAutoencoder;
  /** 0 (off), 3 or 5 (default 3). */
  majority?: 0 | 3 | 5;
  /** k-means++ restarts (default 4). */
  restarts?: number;
  seed?: number;
  /** Pixels sampled for the silhouette (default 2000). */
  indexSample?: number;
  reference?: { labels: ArrayLike<number>; width: number; height: number; noData: number | null };
  onProgress?: (e: { stage: 'train' | 'encode' | 'cluster' | 'indices'; done: number; total: number; loss?: number }) => void;
}

export interface ClusterIndexRow { k: number; wcss: number; silhouette: number; calinskiHarabasz: number; daviesBouldin: number }

export interface GeomapResult {
  /** width·height, LABEL_NODATA where the input had no data; after the majority filter. */
  labels: Uint8Array;
  /** Before the majority filter. */
  rawLabels: Uint8Array;
  /** The chosen k. */
  k: number;
  /** One row per k of kRange; empty when not computed. */
  indices: ClusterIndexRow[];
  /** The trained (or given) AE/SAE. */
  model?: PixelAutoencoder;
  history?: { epoch: number; loss: number; valLoss: number }[];
  /** Against the reference, after the filter, clusters matched to units by the Hungarian method. */
  accuracy?: { overall: number; recall: number[]; confusion: number[][]; mapping: number[] };
  /** Accuracy of rawLabels (before the filter), when a reference is given. */
  rawAccuracy?: number;
  /** Code size used. */
  codeDim: number;
  /** PCA only: fraction of the variance the kept components explain. */
  explained?: number;
  seconds: { reduce: number; cluster: number; indices: number };
}

const bad = (msg: string): never => { throw new InflowError(`geomap: ${msg}`); };
const METHODS: readonly GeomapMethod[] = ['pca', 'ae', 'sae'];
const K_MIN = 2, K_MAX = 8;

function checkK(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < K_MIN || v > K_MAX) bad(`${name} must be an integer from ${K_MIN} to ${K_MAX}, got ${String(v)}`);
  return v as number;
}

/** The raster's data restricted to the chosen bands (band-major), or the data itself for all bands. */
function selectBands(raster: Raster, bands: readonly number[] | undefined): { data: Float32Array; d: number } {
  if (bands === undefined) return { data: raster.data, d: raster.bands };
  if (!Array.isArray(bands) || bands.length === 0) bad('bands must be a non-empty list of band indices');
  const seen = new Set<number>();
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 0 || b >= raster.bands) bad(`band index ${String(b)} is out of range: the raster has bands 0…${raster.bands - 1}`);
    if (seen.has(b)) bad(`band ${b} is selected twice`);
    seen.add(b);
  }
  const plane = raster.width * raster.height;
  const data = new Float32Array(plane * bands.length);
  bands.forEach((b, i) => data.set(raster.data.subarray(b * plane, (b + 1) * plane), i * plane));
  return { data, d: bands.length };
}

interface Checked {
  kFixed: number | null;
  kRange: [number, number];
  wantIndices: boolean;
  majority: 0 | 3 | 5;
  restarts: number;
  seed: number;
  indexSample: number;
}

function checkOptions(raster: Raster, opts: GeomapOptions): Checked {
  if (!opts || typeof opts !== 'object') bad('options must be an object');
  if (!METHODS.includes(opts.method)) bad(`unknown method '${String(opts.method)}' (pca, ae, sae)`);
  if (!raster || !(raster.data instanceof Float32Array) || !Number.isInteger(raster.bands) || raster.data.length !== raster.width * raster.height * raster.bands)
    bad('the raster must be { width, height, bands, data: Float32Array of width·height·bands values }');
  if (raster.bands < 2) bad(`the raster has ${raster.bands} band: mapping needs at least 2`);
  if (opts.bands !== undefined && Array.isArray(opts.bands) && opts.bands.length === 1) bad('select at least 2 bands: mapping needs at least 2');
  const kFixed = opts.k === 'auto' ? null : checkK('k', opts.k);
  const range = opts.kRange ?? [K_MIN, K_MAX];
  if (!Array.isArray(range) || range.length !== 2) bad('kRange must be [from, to]');
  const kRange: [number, number] = [checkK('kRange[0]', range[0]), checkK('kRange[1]', range[1])];
  if (kRange[0] >= kRange[1]) bad(`kRange [${kRange.join(', ')}] must go from a smaller k to a larger one`);
  if (kFixed === null && kRange[1] - kRange[0] < 2) bad(`k = 'auto' needs a kRange of at least 3 values to find an elbow, got [${kRange.join(', ')}]`);
  if (opts.indices !== undefined && typeof opts.indices !== 'boolean') bad(`indices must be true or false, got ${String(opts.indices)}`);
  const majority = opts.majority ?? 3;
  if (majority !== 0 && majority !== 3 && majority !== 5) bad(`majority must be 0 (off), 3 or 5, got ${String(majority)}`);
  const intIn = (name: string, v: unknown, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const x = v ?? dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) bad(`${name} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ' up'}, got ${String(v)}`);
    return x as number;
  };
  const restarts = intIn('restarts', opts.restarts, 4, 1, 100);
  const seed = intIn('seed', opts.seed, 0, 0, 0xffffffff);
  const indexSample = intIn('indexSample', opts.indexSample, 2000, 2, 50000);
  if (opts.model !== undefined && !(opts.model instanceof PixelAutoencoder)) bad('model must be a PixelAutoencoder (loadPixelAutoencoder reads one from a file)');
  if (opts.model !== undefined && opts.method === 'pca') bad("a model is used only by the 'ae' and 'sae' methods, not 'pca'");
  if (opts.decoderOutput !== undefined) {
    if (!['linear', 'relu', 'selu'].includes(opts.decoderOutput)) bad(`decoderOutput must be 'linear', 'relu' or 'selu', got ${String(opts.decoderOutput)}`);
    if (opts.method === 'pca' || opts.model !== undefined) bad('decoderOutput applies only to an AE/SAE that geomap trains (not to pca or a given model)');
  }
  const ref = opts.reference;
  if (ref !== undefined) {
    if (ref.width !== raster.width || ref.height !== raster.height)
      bad(`the reference map is ${ref.width} × ${ref.height} but the raster is ${raster.width} × ${raster.height}`);
    if (!ref.labels || ref.labels.length !== ref.width * ref.height) bad(`the reference map holds ${ref.labels?.length} labels, not ${ref.width} × ${ref.height}`);
  }
  return { kFixed, kRange, wantIndices: opts.indices ?? kFixed === null, majority, restarts, seed, indexSample };
}

/** Reference labels with its no-data (and anything outside 0…254) as LABEL_NODATA, and the class count. */
function referenceClasses(ref: NonNullable<GeomapOptions['reference']>): { labels: Uint8Array; classes: number } {
  const labels = new Uint8Array(ref.labels.length);
  let classes = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = ref.labels[i]!;
    if (v === ref.noData) { labels[i] = LABEL_NODATA; continue; }
    if (!(Number.isInteger(v) && v >= 0 && v < LABEL_NODATA)) bad(`reference class ${v} at pixel ${i} is not an integer in 0…${LABEL_NODATA - 1}`);
    labels[i] = v;
    classes = Math.max(classes, v + 1);
  }
  if (classes === 0) bad('the reference map has no pixel with data');
  return { labels, classes };
}

const now = (): number => performance.now() / 1000;

/** Maps a raster to rock units; see GeomapOptions. */
export async function geomap(engine: Engine, raster: Raster, opts: GeomapOptions): Promise<GeomapResult> {
  const o = checkOptions(raster, opts);
  const { data, d } = selectBands(raster, opts.bands);
  if (opts.model) checkModelBands(opts.model, d, opts.bands ? `the ${d} selected bands` : 'the raster');
  const codeDim = opts.model ? opts.model.codeDim : opts.codeDim ?? Math.min(5, d - 1);
  if (!Number.isInteger(codeDim) || codeDim < 1 || codeDim >= d) bad(`codeDim must be an integer from 1 to ${d - 1} (fewer than the ${d} bands), got ${String(opts.codeDim)}`);
  const ref = opts.reference ? referenceClasses(opts.reference) : null;
  const progress = opts.onProgress;

  const rows = scaledRows(data, d, raster.noData);
  if (rows.n < Math.max(o.kRange[1], o.kFixed ?? 0) + 1) bad(`only ${rows.n} pixels have data in every band: too few to cluster`);

  // Reduce.
  let t0 = now();
  let codes: Float32Array, model: PixelAutoencoder | undefined, history: GeomapResult['history'], explained: number | undefined;
  if (opts.method === 'pca') {
    const pca = fitPca(rows.x, rows.n, d);
    codes = projectPca(pca, rows.x, rows.n, codeDim);
    explained = pca.variances.slice(0, codeDim).reduce((s, v) => s + v, 0) / pca.variances.reduce((s, v) => s + v, 0);
  } else {
    model = opts.model ?? new PixelAutoencoder(engine, pixelAutoencoderPreset(opts.method, d, codeDim, { output: opts.decoderOutput ?? 'linear' }), { seed: o.seed });
    if (!opts.model) {
      const res = await trainPixelAutoencoder(model, rows.x, rows.n, {
        optimizer: opts.optimizer ?? (opts.method === 'sae' ? 'adam' : 'sgd'), learningRate: opts.learningRate, decay: opts.decay, epochs: opts.epochs,
        batchSize: opts.batchSize, patience: opts.patience, trainSample: opts.trainSample, seed: o.seed,
        onProgress: progress && ((e) => progress({ stage: 'train', done: e.done, total: e.total, loss: e.loss })),
      });
      history = res.history;
    }
    codes = await encodePixels(model, rows.x, rows.n, { onProgress: progress && ((done, total) => progress({ stage: 'encode', done, total })) });
  }
  const reduce = now() - t0;

  // Cluster (every k of the range when indices are wanted), then the indices of each labelling.
  const ks: number[] = [];
  if (o.wantIndices) for (let k = o.kRange[0]; k <= o.kRange[1]; k++) ks.push(k);
  if (o.kFixed !== null && !ks.includes(o.kFixed)) ks.push(o.kFixed);
  // Only the centroids of each k are kept (k × code floats): holding n labels per k would cost 4n bytes each on 10⁷ pixels.
  const centroids = new Map<number, Float64Array>();
  let kept: { k: number; labels: Int32Array } | null = null;
  let cluster = 0, indicesTime = 0;
  const indices: ClusterIndexRow[] = [];
  for (const [i, k] of ks.entries()) {
    t0 = now();
    const fit = await kmeans(engine, codes, rows.n, codeDim, { k, restarts: o.restarts, seed: o.seed });
    cluster += now() - t0;
    progress?.({ stage: 'cluster', done: i + 1, total: ks.length });
    centroids.set(k, fit.centroids);
    if (k === o.kFixed) kept = { k, labels: fit.labels };
    if (!o.wantIndices || k < o.kRange[0] || k > o.kRange[1]) continue;
    t0 = now();
    const ix = clusterIndices(codes, rows.n, codeDim, fit.labels, k, { sample: o.indexSample, seed: o.seed });
    indices.push({ k, ...ix });
    indicesTime += now() - t0;
    progress?.({ stage: 'indices', done: indices.length, total: o.kRange[1] - o.kRange[0] + 1 });
  }
  const k = o.kFixed ?? elbowK(indices.map((r) => r.k), indices.map((r) => r.wcss));
  if (!kept) {
    // The elbow's k: one more assignment pass to its final centroids.
    t0 = now();
    kept = { k, labels: (await assignClusters(engine, codes, rows.n, codeDim, centroids.get(k)!)).labels };
    cluster += now() - t0;
  }
  const chosen = kept;

  const plane = raster.width * raster.height;
  const rawLabels = labelImage(chosen.labels, rows.index, plane);
  const labels = o.majority ? majorityFilter(rawLabels, raster.width, raster.height, o.majority) : rawLabels.slice();

  const result: GeomapResult = { labels, rawLabels, k, indices, codeDim, seconds: { reduce, cluster, indices: indicesTime } };
  if (model) result.model = model;
  if (history) result.history = history;
  if (explained !== undefined) result.explained = explained;
  if (ref) {
    const m = matchClusters(labels, ref.labels, k, ref.classes, LABEL_NODATA);
    const c = ref.classes + 1;
    result.accuracy = {
      overall: m.accuracy,
      recall: Array.from(m.recall),
      confusion: Array.from({ length: ref.classes }, (_, r) => Array.from(m.confusion.subarray(r * c, r * c + c))),
      mapping: Array.from(m.mapping),
    };
    result.rawAccuracy = matchClusters(rawLabels, ref.labels, k, ref.classes, LABEL_NODATA).accuracy;
  }
  return result;
}

/** A synthetic scene as the Raster the pipeline takes (the values as float32, its no-data and georeferencing). */
export function sceneRaster(scene: Scene): Raster {
  return { width: scene.width, height: scene.height, bands: scene.bands, data: Float32Array.from(scene.data), noData: scene.noData, sampleType: 'uint16', geo: scene.geo };
}
