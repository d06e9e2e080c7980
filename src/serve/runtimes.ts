/** The worker half of src/serve/kinds.ts: one runtime per kind of model, by the same `kind`. */
import { flowRuntime } from './flow/runtime.js';
import type { ModelRuntime } from './registry.js';

export const modelRuntimes: readonly ModelRuntime[] = [flowRuntime];
