import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { useSoftwareVulkanIfNeeded } from './bindings/vulkan-driver.js';

// The Vulkan loader reads these in C getenv, which worker threads do not share: set them here,
// in the main process, before any pool starts.
useSoftwareVulkanIfNeeded();

export default defineConfig({
  // package.json "exports" point at the built dist/: the suite tests the source instead, with no
  // build step (tests/package/ checks the built, packed package).
  resolve: { alias: [{ find: /^inflow$/, replacement: fileURLToPath(new URL('./src/node.ts', import.meta.url)) }] },
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: SwiftShader already uses both, so parallel GPU files only contend.
    maxWorkers: 2,
  },
});
