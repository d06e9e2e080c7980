import type { Backend, BackendName } from '../../src/backends/backend.js';
import { createReferenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { createWebGPUBackend } from '../../src/backends/webgpu/index.js';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';

export interface BackendUnderTest {
  name: BackendName;
  /** Null with skipReason set when this machine cannot run the backend. */
  backend: Backend | null;
  skipReason?: string;
}

/**
 * Every backend the parity suites run on. WebGPU without an adapter is a skip with one line saying
 * why, unless INFLOW_REQUIRE_WEBGPU=1 (CI), which makes it a failure.
 */
export async function backendsUnderTest(opts: { threads?: number } = {}): Promise<BackendUnderTest[]> {
  const list: BackendUnderTest[] = [{ name: 'reference', backend: createReferenceBackend() }];
  list.push({ name: 'wasm', backend: await createWasmBackend({ threads: opts.threads ?? 1 }) });
  const acquired = await acquireNodeGPU();
  if ('gpu' in acquired) {
    list.push({ name: 'webgpu', backend: await createWebGPUBackend({ gpu: acquired.gpu }) });
  } else {
    const why = `WebGPU suites skipped: ${acquired.error} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
    if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(why);
    console.warn(why);
    list.push({ name: 'webgpu', backend: null, skipReason: why });
  }
  return list;
}

export function disposeAll(list: readonly BackendUnderTest[]): void {
  for (const b of list) b.backend?.dispose();
}
