#!/usr/bin/env node
// The `inflow` command. The library is TypeScript; tsx compiles it on load so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
