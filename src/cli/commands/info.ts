import { Command } from 'commander';
import type { BackendName } from '../../backends/backend.js';
import { createEngine } from '../../engine/dispatcher.js';
import { addEngineOptions, engineFrom, engineOptions, type EngineFlags } from '../engine-option.js';

interface BackendReport {
  name: BackendName;
  available: boolean;
  details?: Record<string, unknown>;
  reason?: string;
}

/** `inflow info`: which backends this machine has, which one auto picks, and why. */
export function infoCommand(): Command {
  return addEngineOptions(new Command('info')
    .description('list the backends this machine can run, the one auto picks and why')
    .option('--json', 'print machine-readable JSON'))
    .action(async (opts: EngineFlags & { json?: boolean }) => {
      // The engine the flags ask for first: a bad --threads or --backend is one line, not three ✗ rows.
      const engine = await engineFrom(opts);
      const chosen = engine.info();
      const memoryBudget = engine.memoryBudget;
      engine.dispose();
      const { threads, memoryBudget: budget, webgpuKernels } = engineOptions(opts);
      const reports: BackendReport[] = [];
      for (const name of ['webgpu', 'wasm', 'reference'] as const) {
        try {
          const e = await createEngine({ backend: name, threads, memoryBudget: budget, webgpuKernels, allowSoftwareGPU: true });
          reports.push({ name, available: true, details: e.info().details });
          e.dispose();
        } catch (err) {
          reports.push({ name, available: false, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      if (opts.json) {
        console.log(JSON.stringify({ chosen, memoryBudget, backends: reports }, null, 2));
        return;
      }
      console.log(`inflow picks: ${chosen.backend} (${chosen.why}); memory budget ${(memoryBudget / 2 ** 30).toFixed(2)} GiB`);
      for (const [name, why] of Object.entries(chosen.rejected)) console.log(`  not ${name}: ${why}`);
      const cal = chosen.calibration;
      if (cal) {
        console.log(`  measured (${cal.workload}): webgpu ${cal.webgpuMs} ms, wasm ${cal.wasmMs} ms per run → ${cal.chosen}` +
          `${cal.cached ? `, remembered from ${cal.measuredAt}` : ''}; stored: ${cal.store}`);
      }
      console.log('\nbackends on this machine:');
      for (const r of reports) {
        const facts = r.details ? Object.entries(r.details).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ') : r.reason;
        console.log(`  ${r.available ? '✓' : '✗'} ${r.name.padEnd(9)} ${facts}`);
      }
    });
}
