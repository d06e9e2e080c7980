// `geomap` suite: the throughput parts of the geological-mapping pipeline (docs/geomap.md, "Bench"),
// in pixels per second, side by side in one process:
// 1. SAE encode (Sentinel-2 10 → 5) on inflow wasm 1 / all threads, webgpu apart at a size a
//    software adapter affords;
// 2. the k-means assignment step (nearest of k = 5 centroids for 5-d codes) on the same engines, and
//    one whole Lloyd iteration from the same centroids against ml-kmeans (plain JS);
// 3. PCA fit + projection to 5 components: ours (float64 host code) against ml-pca;
// 4. a 10⁷-pixel scene mapped end to end in a child process, its peak RSS reported (target < 2 GB).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { kmeans as mlKmeans } from 'ml-kmeans';
import { PCA } from 'ml-pca';
import { Rng } from '../src/data/rng.js';
import { createEngine } from '../src/engine/dispatcher.js';
import type { Engine } from '../src/engine/engine.js';
import { assignClusters, kmeans, kmeansPlusPlus } from '../src/geo/kmeans.js';
import { fitPca, projectPca } from '../src/geo/pca.js';
import { encodePixels, PixelAutoencoder, pixelAutoencoderPreset } from '../src/geo/pixel-autoencoder.js';
import { scaledRows } from '../src/geo/pixels.js';
import { makeScene } from '../src/geo/scene.js';
import { relDiff, sig } from './lib/compare.js';
import type { Table } from './lib/report.js';
import type { Suite, SuiteContext } from './lib/suite.js';
import { sideBySide, type TimingPlan } from './lib/timing.js';
import { webgpuEngine } from './unet.js';

const SIZES = {
  full: { rows: 1 << 20, peerRows: 1 << 18, gpuRows: 1 << 16, rssPixels: 1e7 },
  quick: { rows: 1 << 15, peerRows: 1 << 13, gpuRows: 1 << 12, rssPixels: 1e6 },
} as const;
const PLANS: Record<'full' | 'quick', TimingPlan> = {
  full: { warmup: 1, reps: 5, minReps: 2, budgetMs: 20000 },
  quick: { warmup: 0, reps: 1, minReps: 1, budgetMs: 0 },
};
const K = 5, CODE = 5;
const RSS_LIMIT_MIB = 2048;

interface Slot { id: string; label: string; engine: Engine }

/** Scaled rows of a real synthetic scene, repeated to n rows (throughput does not depend on the values). */
function sceneRows(n: number): { x: Float32Array; d: number } {
  const s = makeScene({ sensor: 'sentinel2', width: 128, height: 128, seed: 1 });
  const rows = scaledRows(Float32Array.from(s.data), s.bands, s.noData);
  const d = rows.d, x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) x.set(rows.x.subarray((i % rows.n) * d, (i % rows.n + 1) * d), i * d);
  return { x, d };
}

const toRows = (x: Float32Array, d: number): number[][] => Array.from({ length: x.length / d }, (_, i) => Array.from(x.subarray(i * d, i * d + d)));
const rate = (n: number, ms: number): number => sig(n / (ms / 1000), 3);

export const geomapBench: Suite = {
  name: 'geomap',
  about: 'pixels/s of SAE encode and k-means assignment on inflow wasm 1 / all threads (webgpu apart) vs ml-kmeans, PCA vs ml-pca, and a 10⁷-pixel scene mapped with its peak RSS (about 4 min; --quick < 1 min)',
  async run(ctx: SuiteContext) {
    const q = ctx.quick, size = q ? SIZES.quick : SIZES.full, plan = q ? PLANS.quick : PLANS.full;
    const notes: string[] = [];
    const slots: Slot[] = [{ id: 'wasm1', label: 'inflow wasm, 1 thread', engine: await createEngine({ backend: 'wasm', threads: 1 }) }];
    if (ctx.threadsAll > 1) {
      const engine = await createEngine({ backend: 'wasm', threads: ctx.threadsAll });
      slots.push({ id: 'wasmN', label: `inflow wasm, ${Number(engine.info().details.threads ?? 1)} threads`, engine });
    } else notes.push('one core only: no threaded run');
    const gpu = await webgpuEngine();
    if ('why' in gpu) notes.push(gpu.why);
    else notes.push(`webgpu timed on ${size.gpuRows} rows${gpu.software ? ' (a software adapter: not a GPU)' : ''}, against wasm 1 thread on the same rows`);
    if (q) notes.push('quick: small sizes, one call per contender after the cold one');

    const { x, d } = sceneRows(size.rows);
    const n = size.rows;

    // ---- 1. SAE encode
    process.stderr.write(`geomap: SAE encode of ${n} pixels\n`);
    const models = new Map<string, PixelAutoencoder>();
    const config = pixelAutoencoderPreset('sae', d, CODE);
    for (const s of slots) models.set(s.id, new PixelAutoencoder(s.engine, config, { seed: 1 }));
    const enc = await sideBySide(slots.map((s) => () => encodePixels(models.get(s.id)!, x, n)), plan);
    const codes = enc.coldResults[0] as Float32Array;
    const encodeRows = slots.map((s, i) => ({ contender: s.label, rows: n, pixelsPerSecond: rate(n, enc.timings[i]!.medianMs), timing: enc.timings[i]!, relDiff: i === 0 ? null : sig(relDiff(enc.coldResults[i] as Float32Array, codes)) }));
    let gpuModel: PixelAutoencoder | null = null;
    if (!('why' in gpu)) {
      process.stderr.write(`geomap: SAE encode on webgpu, ${size.gpuRows} pixels\n`);
      gpuModel = new PixelAutoencoder(gpu.engine, config, { seed: 1 });
      const m = size.gpuRows, xs = x.subarray(0, m * d);
      const g = await sideBySide([() => encodePixels(models.get('wasm1')!, xs, m), () => encodePixels(gpuModel!, xs, m)], q ? plan : { ...plan, reps: 2 });
      encodeRows.push({ contender: gpu.label, rows: m, pixelsPerSecond: rate(m, g.timings[1]!.medianMs), timing: g.timings[1]!, relDiff: sig(relDiff(g.coldResults[1] as Float32Array, g.coldResults[0] as Float32Array)) });
      encodeRows.push({ contender: 'inflow wasm, 1 thread (same rows)', rows: m, pixelsPerSecond: rate(m, g.timings[0]!.medianMs), timing: g.timings[0]!, relDiff: null });
    }
    for (const m of models.values()) m.dispose();
    gpuModel?.dispose();
    ctx.peak.sample(1);

    // ---- 2. k-means assignment, and one Lloyd iteration against ml-kmeans
    process.stderr.write(`geomap: k-means assignment of ${n} codes, k = ${K}\n`);
    const seedRows = Math.min(n, 65536);
    const centroids = kmeansPlusPlus(codes.subarray(0, seedRows * CODE), seedRows, CODE, K, new Rng(1));
    const asg = await sideBySide(slots.map((s) => () => assignClusters(s.engine, codes, n, CODE, centroids)), plan);
    const ref = (asg.coldResults[0] as { labels: Int32Array }).labels;
    const same = (a: Int32Array | number[], b: ArrayLike<number>) => { let c = 0; for (let i = 0; i < b.length; i++) if (a[i] === b[i]) c++; return c / b.length; };
    const assignRows = slots.map((s, i) => ({ contender: s.label, rows: n, pixelsPerSecond: rate(n, asg.timings[i]!.medianMs), timing: asg.timings[i]!, sameLabels: i === 0 ? null : sig(same((asg.coldResults[i] as { labels: Int32Array }).labels, ref), 6) }));
    if (!('why' in gpu)) {
      const m = size.gpuRows, cs = codes.subarray(0, m * CODE);
      const g = await sideBySide([() => assignClusters(slots[0]!.engine, cs, m, CODE, centroids), () => assignClusters(gpu.engine, cs, m, CODE, centroids)], q ? plan : { ...plan, reps: 2 });
      assignRows.push({ contender: gpu.label, rows: m, pixelsPerSecond: rate(m, g.timings[1]!.medianMs), timing: g.timings[1]!, sameLabels: sig(same((g.coldResults[1] as { labels: Int32Array }).labels, (g.coldResults[0] as { labels: Int32Array }).labels), 6) });
      assignRows.push({ contender: 'inflow wasm, 1 thread (same rows)', rows: m, pixelsPerSecond: rate(m, g.timings[0]!.medianMs), timing: g.timings[0]!, sameLabels: null });
    }
    const pm = size.peerRows, pcodes = codes.subarray(0, pm * CODE), prow = toRows(pcodes, CODE);
    const init = toRows(Float32Array.from(centroids), CODE);
    process.stderr.write(`geomap: one Lloyd iteration on ${pm} codes, inflow vs ml-kmeans\n`);
    const lloyd = await sideBySide([
      ...slots.map((s) => () => kmeans(s.engine, pcodes, pm, CODE, { k: K, initialCentroids: centroids, maxIterations: 1 })),
      () => mlKmeans(prow, K, { initialization: init.map((r) => [...r]), maxIterations: 1 }),
    ], plan);
    const mlLabels = (lloyd.coldResults[slots.length] as { clusters: number[] }).clusters;
    const lloydRows = [...slots.map((s) => s.label), 'ml-kmeans 7.0.1 (plain JS)'].map((label, i) => ({
      contender: label, rows: pm, pixelsPerSecond: rate(pm, lloyd.timings[i]!.medianMs), timing: lloyd.timings[i]!,
      sameLabelsAsMlKmeans: i === slots.length ? null : sig(same((lloyd.coldResults[i] as { labels: Int32Array }).labels, mlLabels), 6),
    }));
    ctx.peak.sample(1);

    // ---- 3. PCA fit + projection
    process.stderr.write(`geomap: PCA of ${pm} pixels, inflow vs ml-pca\n`);
    const px = x.subarray(0, pm * d), pr = toRows(px, d);
    const pca = await sideBySide([
      () => projectPca(fitPca(px, pm, d), px, pm, CODE),
      () => { const p = new PCA(pr, { center: true, scale: true }); return p.predict(pr, { nComponents: CODE }); },
    ], plan);
    const ours = pca.coldResults[0] as Float32Array, theirs = (pca.coldResults[1] as { to1DArray(): number[] }).to1DArray();
    // Components are defined up to sign: compare magnitudes.
    const pcaDiff = sig(relDiff(Array.from(ours, Math.abs), theirs.map(Math.abs)));
    const pcaRows = ['inflow fitPca + projectPca (float64 host)', 'ml-pca 4.1.1 (plain JS, rows as arrays)'].map((label, i) => ({
      contender: label, rows: pm, pixelsPerSecond: rate(pm, pca.timings[i]!.medianMs), timing: pca.timings[i]!, relDiff: i === 0 ? pcaDiff : null,
    }));
    notes.push('ml-pca and ml-kmeans take rows as arrays of numbers; the conversion from float32 is done once, outside the timing');
    for (const s of slots) s.engine.dispose();
    if (!('why' in gpu)) gpu.engine.dispose();
    ctx.peak.sample(1);

    // ---- 4. a large scene end to end, peak RSS in a child process
    const rss: Record<string, unknown>[] = [];
    for (const method of ['pca', 'sae'] as const) {
      process.stderr.write(`geomap: ${size.rssPixels} pixels mapped with ${method} in a child process\n`);
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./geomap-rss.ts', import.meta.url)), String(size.rssPixels), method, String(ctx.threadsAll)],
        { encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 1 << 20 });
      const line = child.stdout.trim().split('\n').at(-1) ?? '';
      try {
        rss.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        notes.push(`${method} at ${size.rssPixels} pixels: the child failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''}): ${child.stderr.trim().split('\n').at(-1) ?? ''}`);
      }
    }

    const t = (title: string, header: string[], rows: Table['rows'], tnotes: string[] = []): Table => ({ title, header, rows, notes: tnotes });
    const mps = (v: number) => sig(v / 1e6, 3);
    const tables: Table[] = [
      t(`SAE encode (${d} → 9 → 8 → 7 → 6 → ${CODE}, ReLU/SELU), Mpixel/s`, ['contender', 'rows', 'Mpx/s', 'median ms', 'rel. diff'],
        encodeRows.map((r) => [r.contender, r.rows, mps(r.pixelsPerSecond), r.timing.medianMs, r.relDiff])),
      t(`k-means assignment (k = ${K}, ${CODE}-d codes), Mpixel/s`, ['contender', 'rows', 'Mpx/s', 'median ms', 'same labels'],
        assignRows.map((r) => [r.contender, r.rows, mps(r.pixelsPerSecond), r.timing.medianMs, r.sameLabels])),
      t(`one Lloyd iteration from the same centroids (assignment + update), Mpixel/s`, ['contender', 'rows', 'Mpx/s', 'median ms', 'labels = ml-kmeans'],
        lloydRows.map((r) => [r.contender, r.rows, mps(r.pixelsPerSecond), r.timing.medianMs, r.sameLabelsAsMlKmeans])),
      t(`PCA fit + projection to ${CODE} components (${d} bands, standardised), Mpixel/s`, ['contender', 'rows', 'Mpx/s', 'median ms', '|scores| rel. diff'],
        pcaRows.map((r) => [r.contender, r.rows, mps(r.pixelsPerSecond), r.timing.medianMs, r.relDiff])),
      t(`a large scene mapped end to end (k = ${K}, 1 restart, majority 3; sae: 1 epoch), child process`, ['method', 'pixels', 'mapped', 'scene s', 'pipeline s', 'reduce s', 'cluster s', 'peak RSS MiB', `< ${RSS_LIMIT_MIB} MiB`],
        rss.map((r) => {
          const st = r.stages as { reduce: number; cluster: number };
          return [String(r.method), Number(r.pixels), Number(r.mapped), sig(Number(r.sceneSeconds), 3), sig(Number(r.seconds), 3), sig(st.reduce, 3), sig(st.cluster, 3), sig(Number(r.peakRssMiB), 4), Number(r.peakRssMiB) < RSS_LIMIT_MIB ? 'yes' : 'NO'];
        })),
      ...(notes.length ? [{ title: 'geomap notes', header: ['note'], rows: notes.map((x) => [x]) }] : []),
    ];
    return {
      tables,
      data: {
        sizes: size, k: K, codeDim: CODE, bands: d, peers: { mlKmeans: 'ml-kmeans 7.0.1', mlPca: 'ml-pca 4.1.1' },
        encode: encodeRows, assign: assignRows, lloyd: lloydRows, pca: pcaRows, largeScene: rss, rssLimitMiB: RSS_LIMIT_MIB, notes,
      },
    };
  },
};
