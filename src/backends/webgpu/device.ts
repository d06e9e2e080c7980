import { fail } from '../../engine/errors.js';
import { oneLine } from './runtime.js';

/** Limits worth raising above the spec defaults when the adapter allows it. */
const wantedLimits = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'] as const;

export interface AcquiredDevice {
  adapter: GPUAdapter | null;
  device: GPUDevice;
}

const op = 'createWebGPUBackend';

/**
 * Uses the given device, or requests one from the given adapter / GPU with the larger limits. A device
 * that is already lost (a destroyed device passed in, a GPU reset between adapter and device) is refused
 * here rather than at the first op.
 */
export async function acquireDevice(opts: { gpu?: GPU; adapter?: GPUAdapter; device?: GPUDevice }): Promise<AcquiredDevice> {
  if (opts.device) return { adapter: opts.adapter ?? null, device: await refuseLost(opts.device) };
  let adapter = opts.adapter ?? null;
  if (!adapter) {
    if (!opts.gpu) fail(op, 'pass a gpu, adapter or device (acquireNodeGPU / acquireBrowserGPU find one)');
    try {
      adapter = await opts.gpu.requestAdapter();
    } catch (e) {
      fail(op, `requestAdapter() failed: ${oneLine((e as Error).message)}`);
    }
    if (!adapter) fail(op, 'requestAdapter() returned null (no WebGPU driver on this machine)');
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
    fail(op, `requestDevice() failed: ${oneLine((e as Error).message)} (the adapter is gone or already used: request a new one)`);
  }
  if (!device) fail(op, 'requestDevice() returned no device');
  return { adapter, device: await refuseLost(device) };
}

/** The device, unless its lost promise has already settled (checked without waiting for a loss that has not happened). */
async function refuseLost(device: GPUDevice): Promise<GPUDevice> {
  const lost = await Promise.race([device.lost, Promise.resolve(null)]);
  if (lost) fail(op, `the device is already lost (${lost.reason}: ${oneLine(lost.message || 'no message')}); request a new adapter and device`);
  return device;
}

export function adapterFacts(adapter: GPUAdapter | null): Record<string, unknown> {
  if (!adapter) return { adapter: 'unknown (device passed in)' };
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
  };
}
