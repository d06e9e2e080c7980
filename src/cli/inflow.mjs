#!/usr/bin/env node
// The `inflow` command. The installed package runs the compiled main.js next to this file (dist/,
// see scripts/build.mjs); a source checkout has only main.ts, which tsx (a devDependency) compiles
// on load, so working on the CLI needs no build step.
import { existsSync } from 'node:fs';

const compiled = existsSync(new URL('./main.js', import.meta.url));
if (!compiled) {
  const { register } = await import('tsx/esm/api');
  register();
}
// `inflow inspect model | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
const { main } = await import(compiled ? './main.js' : './main.ts');
process.exitCode = await main(process.argv);
