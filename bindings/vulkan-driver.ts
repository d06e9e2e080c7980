import { existsSync, readdirSync } from 'node:fs';

/** Where Debian's chromium-common package puts the SwiftShader Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const driverVariables = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'] as const;

const icdFolders = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** True when the machine has a Vulkan driver of its own other than Mesa's software lavapipe. */
export function hasHardwareVulkanDriver(): boolean {
  for (const dir of icdFolders) {
    if (!existsSync(dir)) continue;
    if (readdirSync(dir).some((f) => f.endsWith('.json') && !/lvp|lavapipe/i.test(f))) return true;
  }
  return false;
}

/**
 * Points the Vulkan loader at SwiftShader when the user has chosen no driver and the manifest
 * exists. Must run on the main thread before webgpu's create(): worker threads do not pass their
 * process.env to C getenv. Returns the manifest used, or null when nothing was changed.
 */
export function useSoftwareVulkanIfNeeded(): string | null {
  if (typeof process === 'undefined' || !process.env) return null;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (driverVariables.some((v) => process.env[v])) return null;
  if (hasHardwareVulkanDriver() || !existsSync(SWIFTSHADER_ICD)) return null;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return SWIFTSHADER_ICD;
}
