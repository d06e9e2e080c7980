// Entry of `npm run bench -- <suite...|all> [--quick]` (and of `inflow bench`): prints tables, writes bench/results/<suite>.json.
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ceilingBench } from './ceiling.js';
import { detectBench } from './detect.js';
import { diffusionBench } from './diffusion.js';
import { ganBench } from './gan.js';
import { geomapBench } from './geomap.js';
import { machineFacts } from './lib/machine.js';
import { formatTable, writeJsonAtomic } from './lib/report.js';
import type { Suite } from './lib/suite.js';
import { ops } from './ops.js';
import { PeakMeter } from './peak.js';
import { perf } from './perf.js';
import { qualityBench } from './quality.js';
import { report } from './report/suite.js';
import { sampling } from './sampling.js';
import { scalingBench } from './scaling.js';
import { serveBench } from './serve.js';
import { trainBench } from './train.js';
import { unetBench } from './unet.js';

const suites: Suite[] = [ops, sampling, trainBench, perf, unetBench, diffusionBench, detectBench, ganBench, geomapBench, serveBench, qualityBench, scalingBench, ceilingBench, report];
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

function usage(msg: string): never {
  console.error(`${msg}\nusage: npm run bench -- <suite...|all> [--quick]\nsuites:\n${suites.map((s) => `  ${s.name.padEnd(8)} ${s.about}`).join('\n')}\n  all      every suite above`);
  process.exit(2);
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => a !== '--quick');
if (!names.length) usage('no suite named');
const unknown = names.filter((n) => n !== 'all' && !suites.some((s) => s.name === n));
if (unknown.length) usage(`unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}`);
const chosen = names.includes('all') ? suites : suites.filter((s) => names.includes(s.name));

const machine = machineFacts();
const threadsAll = os.availableParallelism();
console.log(`inflow bench on ${machine.cpuModel} (${machine.cores} cores, load ${machine.loadAvg1m.toFixed(2)}), node ${machine.node} ${machine.execArgv.join(' ')}`);
if (!process.execArgv.includes('--no-liftoff'))
  console.log('note: without --no-liftoff V8 may time wasm on its baseline compiler for a while (use npm run bench)');
const peak = await PeakMeter.create();
peak.sample(5);
console.log(`f32x4 mul+add peak so far: ${peak.gflopsPerCore} GFLOP/s per core`);

for (const suite of chosen) {
  const started = Date.now();
  const result = await suite.run({ peak, threadsAll, quick });
  const loadAvgAfter = os.loadavg();
  const p = peak.summary();
  for (const t of result.tables) console.log(formatTable(t));
  console.log(`\nf32x4 mul+add peak: best ${p.gflopsPerCore}, median ${p.medianGflopsPerCore} GFLOP/s per core over ${p.samplesGflops.length} samples through the run`);
  console.log(`load average ${loadAvgAfter.map((l) => l.toFixed(2)).join(' ')} after, ${machine.loadAvg1m.toFixed(2)} before (${threadsAll} cores): above ${threadsAll} other work shared the cores`);
  const file = join(resultsDir, `${suite.name}${quick ? '.quick' : ''}.json`);
  writeJsonAtomic(file, {
    suite: suite.name, quick, machine, loadAvgAfter, threads: { one: 1, all: threadsAll }, peak: p,
    wallSeconds: Math.round((Date.now() - started) / 100) / 10, ...result.data,
  });
  console.log(`\n${suite.name}: ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`);
}
// Worker threads of the wasm engines and tfjs keep the event loop alive otherwise.
process.exit(0);
