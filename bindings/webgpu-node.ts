/** Acquiring a WebGPU adapter in Node through dawn.node (the `webgpu` package). */
import { type AcquiredGPU, isSoftwareAdapter } from './webgpu-browser.js';
import { GPU_DEVICE_NODES, hasGpuDeviceNode, useSoftwareVulkanIfNeeded, vulkanUnavailable } from './vulkan-driver.js';

/**
 * Every GPU object create() ever returned. dawn.node crashes (SIGSEGV in its event loop) when this
 * object is garbage-collected while a device made from it is still alive, and we cannot know when
 * the last device dies, so they are kept for the life of the process. A GPU that gave an adapter is
 * reused by later calls, so there are at most two.
 */
const keptAlive: GPU[] = [];
let working: GPU | undefined;

export interface AcquireOptions {
  /**
   * Only a hardware adapter is wanted (an 'auto' engine: a software one would lose to wasm): on a
   * Linux machine with no GPU device node, answer at once instead of starting Dawn, which would
   * only find SwiftShader or lavapipe, or print its warnings when Vulkan is missing.
   */
  hardwareOnly?: boolean;
}

/**
 * Tries the user's own Vulkan setup first; when that yields no adapter, points the loader at
 * Debian's SwiftShader (bindings/vulkan-driver.ts) and tries again: a second create() re-reads the
 * environment. Must run on the main thread (worker threads do not pass process.env to getenv).
 */
export async function acquireNodeGPU(opts: AcquireOptions = {}): Promise<AcquiredGPU> {
  if (opts.hardwareOnly && !working && process.platform === 'linux' && !hasGpuDeviceNode())
    return { error: `no GPU on this machine (no ${GPU_DEVICE_NODES}), and on a CPU wasm is faster than a software WebGPU adapter` };
  let mod: { create: (options: string[]) => GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    return { error: `the webgpu package (dawn.node) could not be loaded: ${(e as Error).message}` };
  }
  installGlobals(mod.globals);
  // Only silences the Vulkan loader's "XDG_RUNTIME_DIR is invalid" lines on stderr.
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  if (working) return requestFrom(working);
  // With no GPU device node there is no hardware adapter to find: go straight to SwiftShader rather
  // than letting Dawn probe (and loudly reject) Mesa's lavapipe first.
  let preset = useSoftwareVulkanIfNeeded();
  let unavailable = vulkanUnavailable();
  // A GPU node without its Vulkan driver (a container without the user-space driver): SwiftShader is all there is.
  if (unavailable && !preset && (preset = useSoftwareVulkanIfNeeded({ evenWithGpu: true }))) unavailable = vulkanUnavailable();
  if (unavailable) return { error: unavailable };
  const first = await tryCreate(mod.create);
  if ('adapter' in first) return first;
  if (preset) return { error: `no WebGPU adapter, even with VK_ICD_FILENAMES=${preset} (${first.error})` };
  // The user's own setup (or the GPU's driver) just gave nothing: unless they chose a driver
  // explicitly, SwiftShader is the better bet.
  const manifest = useSoftwareVulkanIfNeeded({ evenWithGpu: true });
  if (!manifest) return { error: `no WebGPU adapter (${first.error}; no SwiftShader fallback available or a Vulkan driver is already configured)` };
  const second = await tryCreate(mod.create);
  if ('adapter' in second) return second;
  return { error: `no WebGPU adapter, even with VK_ICD_FILENAMES=${manifest} (${second.error})` };
}

/** GPUBufferUsage, GPUMapMode, ...: Node has none of them; a browser-like host keeps its own. */
function installGlobals(globals: object): void {
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(globals)) if (!(name in g)) g[name] = value;
}

/**
 * Dawn zero-fills workgroup memory at the start of every workgroup, and SwiftShader compiles that
 * fill element by element: a pipeline with a 32 KiB tile took 6–13 s to build, 40 ms without it.
 * Every inflow kernel writes its workgroup memory before reading it, so the fill is pure cost.
 */
const dawnFlags = ['enable-dawn-features=disable_workgroup_init'];

async function tryCreate(create: (options: string[]) => GPU): Promise<AcquiredGPU> {
  let gpu: GPU;
  try {
    gpu = create(dawnFlags);
  } catch {
    // A dawn.node that does not know the toggle: the plain instance still works, only compiles slower.
    try {
      gpu = create([]);
    } catch (e) {
      return { error: `webgpu create() failed: ${(e as Error).message}` };
    }
  }
  keptAlive.push(gpu);
  const result = await requestFrom(gpu);
  if ('adapter' in result) working = gpu;
  return result;
}

async function requestFrom(gpu: GPU): Promise<AcquiredGPU> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { error: `requestAdapter() failed: ${(e as Error).message}` };
  }
  if (!adapter) return { error: 'requestAdapter() returned null' };
  return { gpu, adapter, software: isSoftwareAdapter(adapter) };
}
