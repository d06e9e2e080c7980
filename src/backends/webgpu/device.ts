/** Limits worth raising above the spec defaults when the adapter allows it. */
const wantedLimits = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'] as const;

export interface AcquiredDevice {
  adapter: GPUAdapter | null;
  device: GPUDevice;
}

/** Uses the given device, or requests one from the given adapter / GPU with the larger limits. */
export async function acquireDevice(opts: { gpu?: GPU; adapter?: GPUAdapter; device?: GPUDevice }): Promise<AcquiredDevice> {
  if (opts.device) return { adapter: opts.adapter ?? null, device: opts.device };
  let adapter = opts.adapter ?? null;
  if (!adapter) {
    if (!opts.gpu) throw new Error('createWebGPUBackend: pass a gpu, adapter or device (acquireNodeGPU / acquireBrowserGPU find one)');
    adapter = await opts.gpu.requestAdapter();
    if (!adapter) throw new Error('createWebGPUBackend: requestAdapter() returned null (no WebGPU driver on this machine)');
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of wantedLimits) {
    const v = adapter.limits[name];
    if (typeof v === 'number' && v > 0) requiredLimits[name] = v;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'inflow' });
  } catch (e) {
    throw new Error(`createWebGPUBackend: requestDevice() failed: ${(e as Error).message}`);
  }
  if (!device) throw new Error('createWebGPUBackend: requestDevice() returned no device');
  return { adapter, device };
}

export function adapterFacts(adapter: GPUAdapter | null): Record<string, unknown> {
  if (!adapter) return { adapter: 'unknown (device passed in)' };
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
  };
}
