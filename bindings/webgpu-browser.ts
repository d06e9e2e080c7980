/** Acquiring a WebGPU adapter in a browser (or any host with navigator.gpu). */

export type AcquiredGPU = { gpu: GPU; adapter: GPUAdapter; software: boolean } | { error: string };

/** True for CPU implementations (SwiftShader, llvmpipe / lavapipe): far slower than wasm. */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (info?.isFallbackAdapter) return true;
  const text = [info?.vendor, info?.architecture, info?.device, info?.description].join(' ');
  return /swiftshader|llvmpipe|lavapipe|software/i.test(text);
}

/** Reads navigator.gpu only when called, so importing this module never touches browser globals. */
export async function acquireBrowserGPU(options?: GPURequestAdapterOptions): Promise<AcquiredGPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const gpu = nav?.gpu;
  if (!gpu) return { error: 'navigator.gpu is not available (WebGPU unsupported or disabled in this browser)' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(options);
  } catch (e) {
    return { error: `navigator.gpu.requestAdapter() failed: ${(e as Error).message}` };
  }
  if (!adapter) return { error: 'navigator.gpu.requestAdapter() returned no adapter' };
  return { gpu, adapter, software: isSoftwareAdapter(adapter) };
}
