import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.INFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Null when a browser is there to drive, else the one-line reason the suite skips. */
export function chromiumMissing(): string | null {
  if (!existsSync(CHROMIUM)) return `no browser at ${CHROMIUM} (install Debian's chromium or set INFLOW_CHROMIUM)`;
  return null;
}

/** --enable-unsafe-webgpu is the one flag WebGPU (SwiftShader) needs in headless Chromium. */
export const chromiumArgs = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu',
];
