import { existsSync, readdirSync } from 'node:fs';

/** Where Debian's chromium-common package puts the SwiftShader Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const driverVariables = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'] as const;

/**
 * True when the kernel exposes a GPU device node (NVIDIA, DRM render node, AMD KFD). Installed Vulkan
 * manifests prove nothing: Mesa ships intel / radeon manifests on machines without that hardware.
 */
export function hasGpuDeviceNode(): boolean {
  if (existsSync('/dev/nvidia0') || existsSync('/dev/kfd')) return true;
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

/**
 * Points the Vulkan loader at SwiftShader when the user has chosen no driver and the manifest
 * exists. By default it also declines on a machine with a GPU device node; `evenWithGpu` is for
 * after that GPU's own driver gave no adapter (a container without the user-space driver).
 * Must run on the main thread before webgpu's create(): worker threads do not pass their
 * process.env to C getenv. Returns the manifest used, or null when nothing was changed.
 */
export function useSoftwareVulkanIfNeeded(opts: { evenWithGpu?: boolean } = {}): string | null {
  if (typeof process === 'undefined' || !process.env) return null;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (driverVariables.some((v) => process.env[v])) return null;
  if ((!opts.evenWithGpu && hasGpuDeviceNode()) || !existsSync(SWIFTSHADER_ICD)) return null;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return SWIFTSHADER_ICD;
}
