import { Command, Option } from 'commander';
import type { BackendName } from '../../backends/backend.js';
import { createEngine } from '../../engine/dispatcher.js';
import { backendChoices, parsePositiveInt, type BackendChoice } from '../options.js';

interface BackendReport {
  name: BackendName;
  available: boolean;
  details?: Record<string, unknown>;
  reason?: string;
}

/** `inflow info`: which backends this machine has, which one auto picks, and why. */
export function infoCommand(): Command {
  return new Command('info')
    .description('list the backends this machine can run, the one auto picks and why')
    .addOption(new Option('--backend <name>', 'backend to resolve').choices(backendChoices).default('auto'))
    .option('--threads <n>', 'wasm worker threads (default: all cores)', parsePositiveInt)
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { backend: BackendChoice; threads?: number; json?: boolean }) => {
      const threads = opts.threads === undefined ? {} : { threads: opts.threads };
      const reports: BackendReport[] = [];
      for (const name of ['webgpu', 'wasm', 'reference'] as const) {
        try {
          const e = await createEngine({ backend: name, ...threads, allowSoftwareGPU: true });
          reports.push({ name, available: true, details: e.info().details });
          e.dispose();
        } catch (err) {
          reports.push({ name, available: false, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      const engine = await createEngine({ backend: opts.backend, ...threads });
      const chosen = engine.info();
      engine.dispose();
      if (opts.json) {
        console.log(JSON.stringify({ chosen, backends: reports }, null, 2));
        return;
      }
      console.log(`inflow picks: ${chosen.backend} (${chosen.why})`);
      for (const [name, why] of Object.entries(chosen.rejected)) console.log(`  not ${name}: ${why}`);
      console.log('\nbackends on this machine:');
      for (const r of reports) {
        const facts = r.details ? Object.entries(r.details).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ') : r.reason;
        console.log(`  ${r.available ? '✓' : '✗'} ${r.name.padEnd(9)} ${facts}`);
      }
    });
}
