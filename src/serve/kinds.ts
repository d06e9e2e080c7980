/**
 * The kinds of model `inflow serve` serves (src/serve/registry.ts): routes on the main thread,
 * runtimes in the workers. A new kind adds its entry to both lists.
 */
import { flowRoutes } from './flow/routes.js';
import type { ModelRoutes } from './registry.js';

export const modelRoutes: readonly ModelRoutes[] = [flowRoutes];
