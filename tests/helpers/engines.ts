import type { BackendName } from '../../src/backends/backend.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';

export interface EngineUnderTest {
  name: BackendName;
  engine: Engine | null;
  skipReason?: string;
}

/**
 * An engine on every backend. WebGPU without an adapter is a skip with one line saying why, unless
 * INFLOW_REQUIRE_WEBGPU=1 (CI), which turns it into a failure.
 */
export async function enginesUnderTest(opts: { threads?: number } = {}): Promise<EngineUnderTest[]> {
  const list: EngineUnderTest[] = [
    { name: 'reference', engine: await createEngine({ backend: 'reference' }) },
    { name: 'wasm', engine: await createEngine({ backend: 'wasm', threads: opts.threads ?? 1 }) },
  ];
  try {
    list.push({ name: 'webgpu', engine: await createEngine({ backend: 'webgpu' }) });
  } catch (e) {
    const why = `WebGPU suite skipped: ${e instanceof Error ? e.message : String(e)} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`;
    if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(why);
    console.warn(why);
    list.push({ name: 'webgpu', engine: null, skipReason: why });
  }
  return list;
}
