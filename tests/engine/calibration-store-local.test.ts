// The page branch of src/backends/webgpu/calibration-store.ts: outside Node the 'auto' choice lives in
// localStorage. Node is hidden from the module (isNode() false) and a localStorage stub is installed.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../bindings/node-only.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../bindings/node-only.js')>()),
  isNode: () => false,
}));

const { defaultStore } = await import('../../src/backends/webgpu/calibration-store.js');

const KEY = 'inflow.backendChoice';

/** The part of Storage the store uses, over a Map; `broken` makes every call throw as a full or locked storage does. */
function stubStorage(broken: { get?: boolean; set?: boolean } = {}) {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k: string) => { if (broken.get) throw new Error('SecurityError'); return items.get(k) ?? null; },
    setItem: (k: string, v: string) => { if (broken.set) throw new Error('QuotaExceededError'); items.set(k, String(v)); },
  };
}

function install(value: unknown, throwing = false): void {
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get: () => { if (throwing) throw new Error('storage disabled'); return value; },
  });
}

afterEach(() => { delete (globalThis as { localStorage?: unknown }).localStorage; });

describe('calibration choice store in a page (localStorage)', () => {
  it('writes and reads back under its key, and says where', async () => {
    const s = stubStorage();
    s.items.set('other', 'kept');
    install(s);
    const store = (await defaultStore())!;
    expect(store.where).toBe(`localStorage['${KEY}']`);
    expect(await store.read()).toBeNull();
    await store.write('{"v":1}');
    expect(s.items.get(KEY)).toBe('{"v":1}');
    expect(await store.read()).toBe('{"v":1}');
    expect(s.items.get('other')).toBe('kept');
  });

  it('reads a storage that throws as nothing remembered', async () => {
    install(stubStorage({ get: true }));
    expect(await (await defaultStore())!.read()).toBeNull();
  });

  it('lets a failed write throw (the caller only loses the memory of the choice)', async () => {
    install(stubStorage({ set: true }));
    await expect((await defaultStore())!.write('x')).rejects.toThrow(/QuotaExceeded/);
  });

  it('is null without localStorage, or where touching it throws', async () => {
    install(undefined);
    expect(await defaultStore()).toBeNull();
    install(stubStorage(), true);
    expect(await defaultStore()).toBeNull();
  });
});
