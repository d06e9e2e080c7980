/**
 * Imports a module only Node has (node:*, dawn.node's `webgpu`, files that use them) through a
 * specifier bundlers cannot follow: a browser bundle then neither tries to resolve it nor ships a
 * stub for it. Relative specifiers resolve from this folder (bindings/). Call only on Node.
 */
export function importNodeOnly<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

export const isNode = (): boolean => typeof process === 'object' && !!process.versions?.node;
