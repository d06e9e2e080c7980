import { Command, CommanderError } from 'commander';
import { InflowError } from '../engine/errors.js';
import { infoCommand } from './commands/info.js';
import { UserError } from './user-error.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('inflow')
    .description('Normalizing flows with fast invertible convolutions, on WebAssembly SIMD and WebGPU.')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  program.addCommand(infoCommand());
  return program;
}

/** Runs the CLI; returns the process exit code. User mistakes print one line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UserError || e instanceof InflowError) {
      console.error(`inflow: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
