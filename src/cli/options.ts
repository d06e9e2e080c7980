import { InvalidArgumentError } from 'commander';

export const backendChoices = ['auto', 'webgpu', 'wasm', 'reference'] as const;
export type BackendChoice = (typeof backendChoices)[number];

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}
