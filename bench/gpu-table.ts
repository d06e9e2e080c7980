// bench/results/gpu.json as markdown tables (written beside it as gpu.md, for the README and issue
// threads): one row per measured thing, one column group per contender.

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONTENDERS = ['webgpu tiled', 'webgpu simple', 'wasm'] as const;

const num = (v: unknown, digits = 3): string => (typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : '–');
const ms = (r: J | undefined): string => (r?.timing ? `${num(r.timing.medianMs)}${r.cut ? '*' : ''}` : r?.skipped ? 'skipped' : '–');
const ratio = (a: J | undefined, b: J | undefined): string =>
  a?.timing && b?.timing ? `${num(b.timing.medianMs / a.timing.medianMs, 2)}×` : '–';

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Rows of {contender, timing, …} by contender id. */
const byId = (rows: J[]): Record<string, J> => Object.fromEntries(rows.map((r) => [r.contender, r]));

export function gpuMarkdown(j: J): string {
  const out: string[] = [];
  const a = j.adapter ?? {};
  out.push(`# WebGPU benchmark${j.smoke ? ' (smoke: tiny sizes, times mean nothing)' : ''}`, '',
    `Adapter: ${a.description || a.device || 'unknown'} (${a.vendor ?? '?'} ${a.architecture ?? ''}${a.software ? ', software' : ''}); ` +
    `wasm: ${j.wasmThreads ?? '?'} threads; ${j.wallSeconds ?? '?'} s in all${j.timeGuard?.hit ? `, stopped by the ${j.timeGuard.budgetSeconds} s time guard (${(j.timeGuard.skipped ?? []).join('; ')})` : ''}.`,
    `Times are medians in ms with the read-back included (* = fewer repetitions than planned, cut by the time guard). Agreement with wasm: ${j.correctness?.ok ? 'ok' : 'NOT ok'}.`, '');
  if (j.timestamps?.available && j.timestamps.rows?.length) {
    out.push('## GPU time from timestamp queries (tiled kernels)', '', table(['kernel', 'compute passes', 'GPU ms', 'wall ms', 'GPU GFLOP/s'],
      j.timestamps.rows.map((r: J) => [r.what, String(r.passes), num(r.gpuMs), num(r.wallMs), num(r.gpuGflops)])), '');
  } else if (j.timestamps) out.push(`GPU timestamps: not used (${j.timestamps.why ?? 'no rows'}).`, '');
  if (j.kernels?.length) {
    out.push('## Kernels', '');
    out.push(table(['kernel', 'GFLOP', ...CONTENDERS.map((c) => `${c} ms`), 'tiled GFLOP/s', 'tiled vs simple', 'tiled vs wasm'],
      j.kernels.map((k: J) => {
        const r = byId(k.rows);
        const t = r['webgpu tiled'];
        return [k.name, num(k.flops / 1e9), ...CONTENDERS.map((c) => ms(r[c])), t?.timing ? num(k.flops / t.timing.medianMs / 1e6) : '–',
          ratio(t, r['webgpu simple']), ratio(t, r.wasm)];
      })), '');
  }
  const section = (title: string, s: J | undefined, what: string, value: (r: J) => string, lead: string[]) => {
    if (!s) return;
    const r = byId(s.rows);
    out.push(`## ${title}`, '', table(['', ...lead, ...CONTENDERS], [
      ['ms', ...lead.map(() => ''), ...CONTENDERS.map((c) => ms(r[c]))],
      [what, ...lead.map(() => ''), ...CONTENDERS.map((c) => (r[c] ? value(r[c]) : '–'))],
      ['rel. diff vs wasm', ...lead.map(() => ''), ...CONTENDERS.map((c) => (c === 'wasm' ? '' : num(r[c]?.relDiff, 2)))],
    ]), '');
  };
  if (j.unetStep) {
    out.push(`UNet: ${j.unetStep.model}, ${j.unetStep.config}, ${num(j.unetStep.params / 1e6)} M parameters, batch ${j.unetStep.batch}.`, '');
    section('UNet training step (forward + backward)', j.unetStep, 'images/s', (r) => num(r.imagesPerSecond), []);
  }
  if (j.diffusion) section(`Diffusion sampling (${j.diffusion.model}, ${j.diffusion.method} ${j.diffusion.steps} steps, guidance ${j.diffusion.guidance}, batch ${j.diffusion.batch})`,
    j.diffusion, 'samples/s', (r) => num(r.samplesPerSecond), []);
  if (j.sampling?.length) {
    out.push('## FInC sampling, seconds per 100 images', '');
    out.push(table(['preset', 'weights', 'batch', ...CONTENDERS, 'paper (GPU)'], j.sampling.map((s: J) => {
      const r = byId(s.rows ?? []);
      const cell = (x: J | undefined) => (x?.secondsPer100 != null
        ? `${num(x.secondsPer100)}${x.cut ? '*' : ''}${x.batch !== s.batch ? ` (${x.batch} images, scaled)` : ''}` : x?.skipped ? 'skipped' : '–');
      return [s.preset, s.source ?? '', String(s.batch), ...CONTENDERS.map((c) => cell(r[c])),
        s.paperSecondsPer100 != null ? String(s.paperSecondsPer100) : '–'];
    })), '');
  }
  if (j.grid?.length) {
    out.push('## Sampling time by image size (default kernel set; ms)', '');
    out.push(table(['H×W', 'batch', 'FInC (wavefront)', 'raster', 'Emerging', 'raster / FInC'],
      j.grid.map((g: J) => [`${g.H}×${g.W}`, String(g.batch), num(g.fincMs), num(g.rasterMs), num(g.emergingMs), num(g.rasterOverFinc)])), '');
  }
  return `${out.join('\n')}\n`;
}
