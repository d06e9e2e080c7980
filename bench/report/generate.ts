// Regenerates docs/perf/*.svg and the README "Performance" section from bench/results/*.json, so the
// README numbers are always the last run's. `node --import tsx bench/report/generate.ts` reruns it alone.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, logLogChart } from './svg.js';
import { parallelGrid, readmeSection, type Results } from './section.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The full run's file, else the --quick one: a quick run alone still yields a (labelled) report. */
function load(dir: string, suite: string): J | null {
  for (const f of [`${suite}.json`, `${suite}.quick.json`]) {
    const p = join(dir, f);
    if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as J;
  }
  return null;
}

export function generateReport(resultsDir = join(root, 'bench', 'results'), docsDir = join(root, 'docs', 'perf'), readme = join(root, 'README.md')): string[] {
  const r: Results = { ops: load(resultsDir, 'ops'), sampling: load(resultsDir, 'sampling'), train: load(resultsDir, 'train'),
    perf: load(resultsDir, 'perf'), gpu: load(resultsDir, 'gpu'), unet: load(resultsDir, 'unet'), gan: load(resultsDir, 'gan'),
    scaling: load(resultsDir, 'scaling'), ceiling: load(resultsDir, 'ceiling'),
    gpuTables: existsSync(join(resultsDir, 'gpu.md')) ? readFileSync(join(resultsDir, 'gpu.md'), 'utf8') : null };
  mkdirSync(docsDir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, svg: string) => { const p = join(docsDir, name); writeFileSync(p, svg); written.push(p); };

  const gRows = parallelGrid((r.sampling?.grid ?? []) as J[]);
  const gridBackend = gRows[0]?.backend ?? '';
  put('sampling-vs-size.svg', logLogChart(`sample() time vs image size, ${gridBackend}, batch ${gRows[0]?.batch ?? '?'}`, 'pixels (H×W)', 'ms',
    ['finc', 'raster', 'emerging', 'inverse'].map((v) => ({ name: label(v), points: gRows.map((g) => [g.H * g.W, g.ms[v]] as [number, number]) }))
      .concat(['FInC', 'CInC', 'Emerging'].map((k) => ({ name: `paper F4 ${k} (GPU)`, dashed: true,
        points: ((r.sampling?.papers?.F4?.sizes ?? []) as number[][]).map(([h, w], i) => [h! * w!, 1000 * r.sampling!.papers.F4.seconds[k][i]] as [number, number]) })))));

  const batch = (r.perf?.samplingVsBatch?.rows ?? []) as J[];
  put('sampling-vs-batch.svg', logLogChart(`sample() time vs batch, ${r.perf?.samplingVsBatch?.backend ?? ''}`, 'batch', 'ms',
    ['finc', 'raster', 'emerging', 'inverse'].map((v) => ({ name: label(v), points: batch.map((b) => [b.batch, b.medianMs[v]] as [number, number]) }))));

  const kRows = (r.ops?.kernels?.rows ?? []) as J[];
  const peak = r.ops?.peak?.gflopsPerCore as number | undefined;
  put('kernels.svg', barChart('conv2d / matmul GFLOP/s, batch 16', 'GFLOP/s', kRows.map((k) => shortKernel(k.name)),
    ['tfjs', 'wasm1', 'wasmN'].map((id) => ({ name: id === 'tfjs' ? 'tfjs-wasm (1 thread)' : id === 'wasm1' ? 'inflow wasm 1t' : 'inflow wasm all threads',
      values: kRows.map((k) => k.results[id]?.gflops ?? null) })), peak ? { value: peak, label: `f32x4 peak per core ${Math.round(peak)}` } : undefined));

  const tasks = (r.perf?.flow?.tasks ?? []) as J[];
  const ms = (t: J, id: string): number | null => t.contenders.find((c: J) => c.id === id)?.timing.medianMs ?? null;
  put('flow.svg', barChart('FInC flow: speed-up of inflow over the same flow in tfjs', '× tfjs (time ratio)', tasks.map((t) => `${t.task} (batch ${t.batch})`),
    ['wasm1', 'wasmN'].map((id) => ({ name: id === 'wasm1' ? 'inflow wasm 1 thread' : 'inflow wasm all threads',
      values: tasks.map((t) => { const a = ms(t, id), b = ms(t, 'tfjs'); return a && b ? b / a : null; }) })), { value: 1, label: 'tfjs = 1' }));

  const section = readmeSection(r, written.map((p) => relative(dirname(readme), p)));
  const text = readFileSync(readme, 'utf8');
  const start = text.search(/^## Performance$/m);
  let next = start < 0 ? -1 : text.slice(start + 1).search(/^## /m);
  if (next >= 0) next += start + 1;
  const updated = start < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, start)}${section}${next >= 0 ? `\n${text.slice(next)}` : ''}`;
  writeFileSync(readme, updated.endsWith('\n') ? updated : `${updated}\n`);
  written.push(readme);
  return written;
}

const label = (v: string) => ({ finc: 'FInC wavefront', raster: 'raster (CInC-style)', emerging: 'Emerging', inverse: 'Inverse-Flow' })[v] ?? v;
const shortKernel = (n: string) => n.replace(/^conv /, '').replace(/^matmul /, 'mm ').replace(/ \(.*\)$/, '');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const f of generateReport()) console.log(`wrote ${relative(process.cwd(), f)}`);
}
