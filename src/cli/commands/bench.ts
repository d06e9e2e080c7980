import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { UserError } from '../user-error.js';

/** `inflow bench`: runs the benchmark suites of a source checkout (bench/ is not part of the package). */
export function benchCommand(): Command {
  return new Command('bench')
    .description('run benchmark suites (ops, sampling, train, all) from a source checkout; results go to bench/results/')
    .argument('[suites...]', 'suite names', ['all'])
    .action((suites: string[]) => {
      const runner = fileURLToPath(new URL('../../../bench/run.ts', import.meta.url));
      if (!existsSync(runner)) throw new UserError('benchmarks live in the source repository (bench/run.ts); clone it to run them');
      const r = spawnSync(process.execPath, ['--no-liftoff', '--import', 'tsx', runner, ...suites], { stdio: 'inherit' });
      if (r.status !== 0) throw new UserError(`benchmark exited with code ${r.status}`);
    });
}
