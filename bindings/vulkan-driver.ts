import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's chromium-common package puts the SwiftShader Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const driverVariables = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'] as const;

/** The device nodes hasGpuDeviceNode looks for, as a message names them. */
export const GPU_DEVICE_NODES = '/dev/dri/renderD*, /dev/nvidia0, /dev/kfd or /dev/dxg';

/**
 * True when the kernel exposes a GPU device node (NVIDIA, DRM render node, AMD KFD, WSL's
 * paravirtual GPU). Installed Vulkan manifests prove nothing: Mesa ships intel / radeon manifests
 * on machines without that hardware.
 */
export function hasGpuDeviceNode(): boolean {
  if (['/dev/nvidia0', '/dev/kfd', '/dev/dxg'].some((f) => existsSync(f))) return true;
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

/**
 * Why dawn.node cannot reach Vulkan at all here, or null when it may. Asked before dawn.node's
 * create(): when the loader or every driver is missing, Dawn says so itself in several `Warning:`
 * lines on stderr, with a path on its CI machine, once per create() (issue 12); this says it in one.
 * Only Linux, where Vulkan is dawn.node's only backend.
 */
export function vulkanUnavailable(): string | null {
  if (typeof process === 'undefined' || process.platform !== 'linux') return null;
  return missingLoader() ?? missingDriver();
}

/**
 * dawn.node dlopens libvulkan.so.1 by name. process.dlopen does the same search (LD_LIBRARY_PATH,
 * ld.so.cache): a library that loads but is no Node addon fails with another message, so only
 * "cannot open shared object file" means there is no loader. Anything else is left to Dawn.
 */
function missingLoader(): string | null {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, 'libvulkan.so.1');
  } catch (e) {
    if (/cannot open shared object file/.test((e as Error).message))
      return 'no Vulkan loader: libvulkan.so.1 is not installed (Debian: apt-get install libvulkan1), and dawn.node reaches every GPU through it';
  }
  return null;
}

/**
 * The Vulkan loader's driver manifests: the files VK_DRIVER_FILES (or the older VK_ICD_FILENAMES)
 * names when set, else its search folders (vulkan/icd.d under the XDG config and data folders and
 * /etc), plus VK_ADD_DRIVER_FILES. No manifest at all means no adapter.
 */
function missingDriver(): string | null {
  const env = process.env;
  const list = (v: string | undefined): string[] => (v ?? '').split(':').filter(Boolean);
  for (const name of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const) {
    if (!env[name]) continue;
    if (list(env[name]).some((f) => existsSync(f))) return null;
    return `no Vulkan driver: ${name}=${env[name]} names no file that exists`;
  }
  if (list(env.VK_ADD_DRIVER_FILES).some((f) => existsSync(f))) return null;
  const home = homedir();
  const roots = [
    env.XDG_CONFIG_HOME || join(home, '.config'), ...list(env.XDG_CONFIG_DIRS || '/etc/xdg'), '/etc',
    env.XDG_DATA_HOME || join(home, '.local', 'share'), ...list(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share'),
  ];
  const has = (dir: string): boolean => {
    try {
      return readdirSync(dir).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  };
  if (roots.some((r) => has(join(r, 'vulkan', 'icd.d')))) return null;
  return 'no Vulkan driver is installed (no manifest in vulkan/icd.d; Debian: apt-get install chromium for the SwiftShader driver, or install your GPU\'s Vulkan driver)';
}
