#!/usr/bin/env node
// The `inflow` command. The library is TypeScript; tsx compiles it on load so no build step is needed.
import { register } from 'tsx/esm/api';

register();
// `inflow inspect model | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
