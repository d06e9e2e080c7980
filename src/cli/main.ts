import { Command, CommanderError } from 'commander';
import { InflowError } from '../engine/errors.js';
import { fsReason } from '../io/atomic-write.js';
import { ModelFileError } from '../io/safetensors.js';
import { activeLearnCommand } from './commands/active-learn.js';
import { anonymizeCommand } from './commands/anonymize.js';
import { autoencoderCommand } from './commands/autoencoder.js';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { diffuseCommand } from './commands/diffuse.js';
import { evalCommand } from './commands/eval.js';
import { ganCommand } from './commands/gan.js';
import { geomapCommand } from './commands/geomap.js';
import { imageTaskCommands } from './commands/image-tasks.js';
import { infoCommand } from './commands/info.js';
import { inspectCommand } from './commands/inspect.js';
import { sampleCommand } from './commands/sample.js';
import { serveCommand } from './commands/serve.js';
import { trainClassifierCommand } from './commands/train-classifier.js';
import { trainCommand } from './commands/train.js';
import { UserError } from './user-error.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('inflow')
    .description('Normalizing flows with fast invertible convolutions, on WebAssembly SIMD and WebGPU.');
  for (const c of [trainCommand(), sampleCommand(), evalCommand(), infoCommand(), inspectCommand(), benchCommand(), demoCommand(), trainClassifierCommand(), diffuseCommand(), ganCommand(), autoencoderCommand(), serveCommand(), ...imageTaskCommands(), anonymizeCommand(), geomapCommand(), activeLearnCommand()])
    program.addCommand(c);
  // addCommand does not pass these settings down, so every command and subcommand gets them itself:
  // without them commander exits by itself (code 1, "error: …") instead of throwing to main's one-line handler.
  const configure = (c: Command): void => {
    c.exitOverride().configureOutput({ outputError: (str, write) => write(`inflow: ${str.replace(/^error: /, '')}`) });
    for (const sub of c.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** System errors about a path the user gave, as opposed to a bug in inflow. */
const USER_FS_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EDQUOT', 'EROFS', 'ENAMETOOLONG', 'ELOOP']);

/** Runs the CLI; returns the process exit code. User mistakes print one line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UserError || e instanceof InflowError || e instanceof ModelFileError) {
      console.error(`inflow: ${e.message}`);
      return 2;
    }
    // A file the user named that the system refused (permissions, a full disk, a folder where a
    // file was expected): theirs to fix, so one line with the path, not an internal error.
    const sys = e as NodeJS.ErrnoException | null;
    if (sys instanceof Error && typeof sys.code === 'string' && USER_FS_ERRORS.has(sys.code)) {
      console.error(`inflow: ${sys.path ? `${sys.path}: ` : ''}${sys.syscall ? `cannot ${sys.syscall} (${fsReason(sys)})` : fsReason(sys)}`);
      return 2;
    }
    // Anything else is a bug in inflow, not the user's mistake: still one line, the stack on request.
    console.error(`inflow: internal error: ${e instanceof Error ? e.message : String(e)}${process.env.INFLOW_DEBUG ? `\n${e instanceof Error ? e.stack : ''}` : ' (set INFLOW_DEBUG=1 for the stack)'}`);
    return 1;
  }
}
